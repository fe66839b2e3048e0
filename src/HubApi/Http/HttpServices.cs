using System.Diagnostics;
using HubApi.Keys;
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
/// Database faults are answered as what they are for the client: a busy or locked database is temporary (503 with
/// Retry-After, never a hang or a 500); a full disk is 507; a read-only, unreadable or damaged database is 503.
/// </summary>
public sealed class DatabaseFaultHandler(ILogger<DatabaseFaultHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext http, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not SqliteException sqlite) return false;
        var (status, retryAfter, detail) = (sqlite.SqliteErrorCode & 0xFF) switch
        {
            5 or 6 => (503, "1", "The database is busy; retry shortly."),                       // BUSY, LOCKED
            13 => (507, "60", "The database has no room left for this write."),                  // FULL
            8 => (503, "60", "The database is read-only at the moment; writes are refused."),    // READONLY
            10 or 14 => (503, "30", "The database cannot be read or written at the moment."),    // IOERR, CANTOPEN
            11 or 26 => (503, "60", "The database is damaged; the operator has been told."),     // CORRUPT, NOTADB
            _ => (0, "", ""),
        };
        if (status == 0) return false;
        logger.LogError("Database fault {Code} answered {Status}: {Message}", sqlite.SqliteErrorCode, status, sqlite.Message);
        http.Response.StatusCode = status;
        http.Response.Headers.RetryAfter = retryAfter;
        await TypedResults.Problem(statusCode: status, detail: detail).ExecuteAsync(http);
        return true;
    }
}
