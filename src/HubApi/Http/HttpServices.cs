using System.Data.Common;
using System.Diagnostics;
using HubApi.Data;
using HubApi.Resources;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;

namespace HubApi.Http;

public static class HttpServices
{
    public static void AddHubLogging(this WebApplicationBuilder builder)
    {
        // JSON lines in production, with scopes so every line carries the request's trace id.
        if (!builder.Environment.IsDevelopment())
        {
            builder.Logging.ClearProviders();
            builder.Logging.AddJsonConsole(o => o.IncludeScopes = true);
        }
    }

    public static IServiceCollection AddHubHttp(this IServiceCollection services, IConfiguration configuration)
    {
        var maxEntries = configuration.GetValue("ResponseCache:MaxEntries", ResponseCache.DefaultMaxEntries);
        if (maxEntries < 0) throw new InvalidOperationException("ResponseCache:MaxEntries must be 0 (no cache) or a number of responses.");
        services.AddSingleton(provider => new ResponseCache(provider.GetRequiredService<ResourceCatalog>(), maxEntries));
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        services.AddExceptionHandler<DatabaseFaultHandler>();
        services.AddCors(o => o.AddDefaultPolicy(policy => policy
            .AllowAnyOrigin()
            .WithMethods("GET", "HEAD")
            .WithHeaders("If-None-Match", "Accept", "Last-Event-ID")
            .WithExposedHeaders("ETag", "Link", "Location", "Retry-After")));
        // Writes carry a key: browsers may send them only from the origins configured in Cors:WriteOrigins (none by default).
        services.AddOptions<CorsOptions>().Configure<IConfiguration>((o, configuration) => o.AddPolicy(WriteCorsPolicy, policy => policy
            .WithOrigins(WriteOrigins(configuration))
            .WithMethods("POST", "PUT", "PATCH", "DELETE")
            .WithHeaders("Content-Type", "X-Api-Key", "If-Match", "Idempotency-Key")
            .WithExposedHeaders("ETag", "Location", "Retry-After", "Idempotent-Replayed")));
        return services;
    }

    public const string WriteCorsPolicy = "writes";

    /// <summary>Cors:WriteOrigins as a list (Cors__WriteOrigins__0=...) or one comma-separated value.</summary>
    private static string[] WriteOrigins(IConfiguration configuration)
    {
        var section = configuration.GetSection("Cors:WriteOrigins");
        var values = section.Value is { } list ? list.Split(',') : section.GetChildren().Select(c => c.Value ?? "");
        string[] origins = [.. values.Select(v => v.Trim()).Where(v => v.Length > 0)];
        if (origins.Contains("*")) throw new InvalidOperationException("Cors:WriteOrigins cannot be '*': name the origins that may send writes.");
        return origins;
    }

    public static void UseHubHttp(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Unmatched routes (404) and methods (405) answer with a problem document too.
        app.UseStatusCodePages(context =>
            TypedResults.Problem(statusCode: context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        app.UseCors();
        // Authentication only identifies the key; rate limits (per key) then apply before authorization refuses anything.
        app.UseApiKeys();
    }
}

/// <summary>
/// Database faults are answered as what they are for the client, as the store classifies them (<see cref="IStore.Fault"/>):
/// temporary ones with 503 and Retry-After, never a hang or a 500; a full disk with 507.
/// </summary>
public sealed class DatabaseFaultHandler(IStore store, ILogger<DatabaseFaultHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not DbException error || store.Fault(error) is not { } fault) return false;
        logger.LogError("Database fault answered {Status}: {Message}", fault.Status, error.Message);
        http.Response.StatusCode = fault.Status;
        http.Response.Headers.RetryAfter = fault.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        await TypedResults.Problem(statusCode: fault.Status, detail: fault.Detail).ExecuteAsync(http);
        return true;
    }
}
