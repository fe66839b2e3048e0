using System.Diagnostics;
using Microsoft.AspNetCore.Cors.Infrastructure;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.Data.Sqlite;

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

    public static IServiceCollection AddHubHttp(this IServiceCollection services)
    {
        services.AddProblemDetails(o => o.CustomizeProblemDetails = context =>
            context.ProblemDetails.Extensions["traceId"] = Activity.Current?.TraceId.ToString() ?? context.HttpContext.TraceIdentifier);
        services.AddExceptionHandler<DatabaseBusyHandler>();
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
        app.UseAuthentication();
        app.UseAuthorization();
    }
}

/// <summary>A locked or busy database is a temporary condition: 503 with Retry-After, never a hang or a 500.</summary>
public sealed class DatabaseBusyHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not SqliteException { SqliteErrorCode: 5 or 6 }) return false; // SQLITE_BUSY, SQLITE_LOCKED
        http.Response.StatusCode = StatusCodes.Status503ServiceUnavailable;
        http.Response.Headers.RetryAfter = "1";
        await TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable,
            detail: "The database is busy; retry shortly.").ExecuteAsync(http);
        return true;
    }
}
