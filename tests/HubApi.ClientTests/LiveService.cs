using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace HubApi.ClientTests;

/// <summary>
/// The real service binary on a loopback port and a fresh database, with an admin key: what partners and testers
/// meet. One per test class (xunit class fixture); the database is deleted afterwards.
/// </summary>
public sealed class LiveService : IAsyncLifetime
{
    private readonly string database = Path.Combine(Path.GetTempPath(), $"hubapi-client-{Guid.NewGuid():N}.db");
    private readonly StringBuilder output = new();
    private Process? process;

    public string AdminKey { get; } = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24)).Replace('+', '-').Replace('/', '_');
    public Uri BaseAddress { get; private set; } = null!;
    public string Output { get { lock (output) return output.ToString(); } }

    public async Task InitializeAsync()
    {
        // A port found free can be taken by another process before the service binds it: then try another.
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await StartAsync();
                return;
            }
            catch (InvalidOperationException) when (attempt < 3 && Output.Contains("address already in use", StringComparison.OrdinalIgnoreCase))
            {
                lock (output) output.Clear();
            }
        }
    }

    private async Task StartAsync()
    {
        var port = FreePort();
        BaseAddress = new Uri($"http://127.0.0.1:{port}/");
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "HubApi.dll")])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        start.Environment["ConnectionStrings__Hub"] = $"Data Source={database}";
        start.Environment["ASPNETCORE_URLS"] = BaseAddress.ToString().TrimEnd('/');
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["Auth__AdminKey"] = AdminKey;
        start.Environment["RateLimiting__AnonymousPermitsPerMinute"] = "0";
        start.Environment["RateLimiting__KeyedPermitsPerMinute"] = "0";
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        using var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (DateTime.UtcNow < deadline)
        {
            if (process.HasExited)
            {
                process.WaitForExit(); // drain the output
                throw new InvalidOperationException("The service exited during start-up:\n" + Output);
            }
            try
            {
                // Ready, and it is this process that listens (another one could have taken the port in between).
                if (Output.Contains("Now listening on: " + BaseAddress.ToString().TrimEnd('/'))
                    && (await client.GetAsync("health/ready")).StatusCode == HttpStatusCode.OK) return;
            }
            catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
            await Task.Delay(100);
        }
        throw new TimeoutException("The service did not become ready:\n" + Output);
    }

    /// <summary>An HttpClient for the service, sending the admin key when asked.</summary>
    public HttpClient CreateClient(string? key = null)
    {
        if (process is { HasExited: true }) throw new InvalidOperationException($"The service exited ({process.ExitCode}):\n" + Output);
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
        if (key is not null) client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public Task DisposeAsync()
    {
        if (process is { HasExited: false }) process.Kill(entireProcessTree: true);
        process?.WaitForExit();
        process?.Dispose();
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(database + suffix);
        return Task.CompletedTask;
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
