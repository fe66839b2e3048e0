using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace HubApi.Tests;

/// <summary>The real service as its own process on a loopback port, for start-up, crash and shutdown tests.</summary>
public sealed class ServerProcess : IDisposable
{
    private readonly Process process;
    private readonly StringBuilder output = new();

    public int Port { get; }
    public int ProcessId => process.Id;
    public bool HasExited => process.HasExited;
    public HttpClient Client { get; }
    public string Output { get { lock (output) return output.ToString(); } }

    /// <summary>The error and critical lines the service logged (JSON lines), for a failing test to show.</summary>
    public string Errors => string.Join("\n", Output.Split('\n').Where(l => l.Contains("\"LogLevel\":\"Error\"") || l.Contains("\"LogLevel\":\"Critical\"")).Take(5));

    private ServerProcess(string databasePath, IDictionary<string, string>? environment, string[] args)
    {
        Port = FreePort();
        var start = new ProcessStartInfo("dotnet", [Path.Combine(AppContext.BaseDirectory, "HubApi.dll"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        TestDatabase.Create(databasePath);
        foreach (var (key, value) in TestDatabase.Settings(databasePath, "__")) start.Environment[key] = value;
        start.Environment["ASPNETCORE_URLS"] = $"http://127.0.0.1:{Port}";
        start.Environment["ASPNETCORE_ENVIRONMENT"] = "Production";
        start.Environment["RateLimiting__AnonymousPermitsPerMinute"] = "0";
        start.Environment["RateLimiting__KeyedPermitsPerMinute"] = "0";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.ErrorDataReceived += (_, e) => { lock (output) output.AppendLine(e.Data); };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{Port}"), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>
    /// Starts the service and waits until it says it listens on its port and /health/ready answers 200. Only this
    /// process's answer counts: with servers started and killed in parallel, the port may have belonged to another one
    /// a moment ago. When another process took the port before the service bound it, it starts again on another.
    /// </summary>
    public static async Task<ServerProcess> StartAsync(string databasePath, IDictionary<string, string>? environment = null)
    {
        for (var attempt = 1; ; attempt++)
        {
            var server = new ServerProcess(databasePath, environment, []);
            var listening = $"Now listening on: http://127.0.0.1:{server.Port}";
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                if (server.process.HasExited)
                {
                    server.process.WaitForExit(); // drain the output
                    var output = server.Output;
                    server.Dispose();
                    if (attempt < 3 && output.Contains("address already in use")) break;
                    throw new InvalidOperationException("The service exited during start-up:\n" + output);
                }
                if (server.Output.Contains(listening))
                {
                    try
                    {
                        if ((await server.Client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK) return server;
                    }
                    catch (HttpRequestException) { }
                }
                await Task.Delay(50);
            }
            if (!server.process.HasExited)
            {
                server.Dispose();
                throw new TimeoutException("The service did not become ready:\n" + server.Output);
            }
        }
    }

    /// <summary>Runs the service binary to completion (a command, or a start-up that must fail).</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string databasePath, params string[] args)
    {
        using var server = new ServerProcess(databasePath, null, args);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await server.process.WaitForExitAsync(timeout.Token);
        server.process.WaitForExit(); // drain the output
        return (server.process.ExitCode, server.Output);
    }

    /// <summary>SIGKILL: the process dies at once, as in a power cut of the process (the OS keeps what was written).</summary>
    public void Kill()
    {
        process.Kill(entireProcessTree: true);
        process.WaitForExit();
    }

    /// <summary>The resident set size of the process, from /proc/&lt;pid&gt;/status (Linux).</summary>
    public long ResidentBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{process.Id}/status"))
        {
            if (line.StartsWith("VmRSS:"))
                return long.Parse(line["VmRSS:".Length..].Trim().Split(' ')[0]) * 1024; // "VmRSS:   123456 kB"
        }
        throw new InvalidOperationException("VmRSS not found");
    }

    /// <summary>SIGTERM, as a container runtime sends it; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        Process.Start("kill", ["-TERM", process.Id.ToString()])!.WaitForExit();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }

    public void Dispose()
    {
        if (!process.HasExited) process.Kill(entireProcessTree: true);
        process.WaitForExit();
        process.Dispose();
        Client.Dispose();
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
