using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.Logging;

namespace HubApi.Tests;

/// <summary>The service in memory, on a database of its own (<see cref="TestDatabase"/>) that is deleted afterwards.</summary>
public sealed class HubApiFactory(string? databasePath = null) : WebApplicationFactory<Program>
{
    /// <summary>The database: a SQLite file's path, or a PostgreSQL database's name.</summary>
    public string DatabasePath { get; } = databasePath ?? TestDatabase.NewName();

    /// <summary>Leave the database behind on dispose, for a test that starts a second instance on it.</summary>
    public bool KeepDatabase { get; init; }

    /// <summary>On PostgreSQL, start from an empty database rather than a copy of the seeded template.</summary>
    public bool Empty { get; init; }

    /// <summary>What the service logged at Error or above, as it would reach an operator.</summary>
    public ErrorLog Errors { get; } = new();

    private readonly Dictionary<string, string?> settings = new();

    public HubApiFactory With(string key, string? value)
    {
        settings[key] = value;
        return this;
    }

    /// <summary>Runs a statement straight on this test's database, behind the service's back.</summary>
    public int Execute(string sql, object? parameters = null) => TestDatabase.Execute(DatabasePath, sql, parameters);

    public T Scalar<T>(string sql, object? parameters = null) => TestDatabase.Scalar<T>(DatabasePath, sql, parameters);

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        TestDatabase.Create(DatabasePath, Empty);
        builder.UseEnvironment("Production");
        foreach (var (key, value) in TestDatabase.Settings(DatabasePath)) builder.UseSetting(key, value);
        // Tests send many requests from one address; the rate-limit tests switch these back on.
        builder.UseSetting("RateLimiting:AnonymousPermitsPerMinute", "0");
        builder.UseSetting("RateLimiting:KeyedPermitsPerMinute", "0");
        foreach (var (key, value) in settings) builder.UseSetting(key, value);
        builder.ConfigureLogging(logging => logging.AddProvider(Errors));
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (TestDatabase.Postgres)
        {
            if (!KeepDatabase) TestDatabase.Drop(DatabasePath);
            return;
        }
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

/// <summary>Keeps every entry logged at Error or above, with its exception's stack trace, for a test to assert there is none.</summary>
public sealed class ErrorLog : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> entries = new();

    public IReadOnlyCollection<string> Entries => entries;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose() { }

    private sealed class Logger(ErrorLog log, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Error;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel)) log.entries.Enqueue($"{logLevel} {category}: {formatter(state, exception)}{(exception is null ? "" : "\n" + exception)}");
        }
    }
}
