using System.Diagnostics;
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
            .WithHeaders("If-None-Match", "Accept")
            .WithExposedHeaders("ETag", "Link", "Location", "Retry-After")));
        return services;
    }

    public static void UseHubHttp(this WebApplication app)
    {
        app.UseExceptionHandler();
        // Unmatched routes (404) and methods (405) answer with a problem document too.
        app.UseStatusCodePages(context =>
            TypedResults.Problem(statusCode: context.HttpContext.Response.StatusCode).ExecuteAsync(context.HttpContext));
        app.UseCors();
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
