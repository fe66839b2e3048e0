using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace HubApi.Tests;

/// <summary>The service in memory, on a database of its own that is deleted afterwards.</summary>
public sealed class HubApiFactory(string? databasePath = null) : WebApplicationFactory<Program>
{
    public string DatabasePath { get; } = databasePath ?? Path.Combine(Path.GetTempPath(), $"hubapi-test-{Guid.NewGuid():N}.db");

    /// <summary>Leave the database file behind on dispose, for a test that starts a second instance on it.</summary>
    public bool KeepDatabase { get; init; }
    private readonly Dictionary<string, string?> settings = new();

    public HubApiFactory With(string key, string? value)
    {
        settings[key] = value;
        return this;
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Production");
        builder.UseSetting("ConnectionStrings:Hub", $"Data Source={DatabasePath}");
        // Tests send many requests from one address; the rate-limit tests switch these back on.
        builder.UseSetting("RateLimiting:AnonymousPermitsPerMinute", "0");
        builder.UseSetting("RateLimiting:KeyedPermitsPerMinute", "0");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        Faults.ClearPool(DatabasePath); // the service does so on a clean stop, not when its start-up failed
        if (KeepDatabase) return;
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(DatabasePath + suffix);
    }
}

/// <summary>Base for tests: a fresh service and database per test (xunit makes one instance per test).</summary>
public abstract class ApiTest : IDisposable
{
    protected HubApiFactory Factory { get; } = new();
    private HttpClient? client;
    protected HttpClient Client => client ??= Factory.CreateClient();

    public void Dispose()
    {
        client?.Dispose();
        Factory.Dispose();
        GC.SuppressFinalize(this);
    }
}
