using System.Data.Common;
using HubApi.Data;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace HubApi.Http;

/// <summary>Start-up and health: the database made ready before the first request, and the probes that report on it.</summary>
public static class Health
{
    public static IServiceCollection AddHubHealth(this IServiceCollection services)
    {
        services.AddHealthChecks().AddCheck<StoreHealthCheck>("database", tags: ["ready"]);
        return services;
    }

    /// <summary>
    /// Migrates and seeds before the first request. A database from a newer build, or one the engine cannot use, stops
    /// start-up here with a clear message rather than serving garbage.
    /// </summary>
    public static bool InitializeDatabase(this WebApplication app)
    {
        var store = app.Services.GetRequiredService<IStore>();
        try
        {
            store.Initialize(app.Logger);
        }
        catch (Exception e) when (e is InvalidOperationException or DbException)
        {
            app.Logger.LogCritical("The database {Database} cannot be used: {Reason}. Restore a backup with `restore <file>`, " +
                                   "or point ConnectionStrings__Hub at another database.", store.Location, e.Message.TrimEnd('.'));
            return false;
        }
        // On shutdown (SIGTERM), after in-flight requests finish: let the writes finish and leave the database tidy.
        app.Lifetime.ApplicationStopped.Register(store.Close);
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
public sealed class StoreHealthCheck(IStore store) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            return Task.FromResult(store.IsReady() ? HealthCheckResult.Healthy() : HealthCheckResult.Unhealthy("The database is missing migrations."));
        }
        catch (Exception e)
        {
            return Task.FromResult(HealthCheckResult.Unhealthy("The database cannot be read.", e));
        }
    }
}
