using System.Text;
using Dapper;
using HubApi.Http;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HubApi.Data;

public static class DataServices
{
    public const string DefaultConnectionString = "Data Source=data/hub.db";

    public static IServiceCollection AddHubData(this IServiceCollection services, IConfiguration configuration)
    {
        var db = new Db(configuration.GetConnectionString("Hub") ?? DefaultConnectionString, configuration.GetValue<long?>("Database:MaxPageCount"));
        services.AddSingleton(db);
        services.AddSingleton(provider =>
        {
            using var connection = db.Open();
            var key = connection.ExecuteScalar<string>("select value from meta where key = 'cursor_key'")!;
            return new CursorCodec(Encoding.UTF8.GetBytes(key));
        });
        services.AddSingleton<ResourceReader>();
        services.AddSingleton(_ =>
        {
            // Every commit retires the cached GETs its writes change, before any of them is answered.
            var maxEntries = configuration.GetValue("ResponseCache:MaxEntries", ResponseCache.DefaultMaxEntries);
            if (maxEntries < 0) throw new InvalidOperationException("ResponseCache:MaxEntries must be 0 (no cache) or a number of responses.");
            var cache = new ResponseCache(maxEntries);
            db.Committed += cache.Invalidate;
            return cache;
        });
        services.AddHealthChecks().AddCheck<DatabaseHealthCheck>("database", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Migrates and seeds before the first request. A database from a newer build, or one that is not a sound SQLite
    /// file, stops start-up here with a clear message rather than serving garbage.
    /// </summary>
    public static bool InitializeDatabase(this WebApplication app)
    {
        var db = app.Services.GetRequiredService<Db>();
        try
        {
            Database.Initialize(db, app.Logger);
        }
        catch (Exception e) when (e is InvalidOperationException or Microsoft.Data.Sqlite.SqliteException)
        {
            app.Logger.LogCritical("The database {Database} cannot be used: {Reason}. Restore a backup with `restore <file>`, " +
                                   "or point ConnectionStrings__Hub at another database.", db.DataSource, e.Message.TrimEnd('.'));
            return false;
        }
        // On shutdown (SIGTERM), after in-flight requests finish: fold the WAL back into the file and close.
        app.Lifetime.ApplicationStopped.Register(() => Database.Close(db));
        return true;
    }

    public static void MapHealth(this WebApplication app)
    {
        var getOnly = new HttpMethodMetadata(["GET", "HEAD"]);
        app.MapHealthChecks("/health/live", new() { Predicate = _ => false }).WithMetadata(getOnly).ExcludeFromDescription();
        app.MapHealthChecks("/health/ready", new() { Predicate = check => check.Tags.Contains("ready") }).WithMetadata(getOnly).ExcludeFromDescription();
    }
}

/// <summary>Ready when the database answers and carries every migration this build knows.</summary>
public sealed class DatabaseHealthCheck(Db db) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            using var connection = db.Open();
            return Task.FromResult(Migrator.IsCurrent(connection)
                ? HealthCheckResult.Healthy()
                : HealthCheckResult.Unhealthy("The database is missing migrations."));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The database cannot be read.", e));
        }
    }
}
