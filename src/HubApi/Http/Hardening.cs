using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace HubApi.Http;

/// <summary>Limits, time-outs, rate limits (<see cref="RateLimits"/>) and security headers: what a public API needs before its first request.</summary>
public static class Hardening
{
    /// <summary>How long a request may run before it is answered 503 (exports and the change stream opt out).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    public static void AddHubHardening(this WebApplicationBuilder builder)
    {
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestLineSize = 8 * 1024;        // the query string lives here
            kestrel.Limits.MaxRequestHeadersTotalSize = 32 * 1024;
            kestrel.Limits.MaxRequestHeaderCount = 64;
            kestrel.Limits.RequestHeadersTimeout = TimeSpan.FromSeconds(10);
            // Header bytes beyond ASCII reach the application as Latin-1, one character per byte, rather than Kestrel refusing
            // those that are not UTF-8 with a bare 400: the headers the service reads then answer a problem that names them.
            kestrel.RequestHeaderEncodingSelector = _ => System.Text.Encoding.Latin1;
        });

        builder.Services.AddRequestTimeouts(o => o.DefaultPolicy = new RequestTimeoutPolicy
        {
            Timeout = RequestTimeout,
            TimeoutStatusCode = StatusCodes.Status503ServiceUnavailable,
        });

        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton<RateLimits>();
    }

    public static void UseHubHardening(this WebApplication app)
    {
        var https = app.Configuration.GetSection("Https");
        if (https.GetValue("Hsts", false)) app.UseHsts();
        if (https.GetValue("Redirect", false)) app.UseHttpsRedirection();

        app.Use((http, next) =>
        {
            var headers = http.Response.Headers;
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "no-referrer";
            headers.XFrameOptions = "DENY";
            // JSON needs no scripts, styles or frames; Swagger UI is a page and needs its own.
            headers.ContentSecurityPolicy = http.Request.Path.StartsWithSegments("/swagger")
                ? "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
                : "default-src 'none'; frame-ancestors 'none'";
            return next(http);
        });
        // Each request is counted once its key is known and before anything answers it, the response cache included.
        // With both budgets switched off (benchmarks), the limiter stays out of the pipeline.
        var limits = app.Services.GetRequiredService<RateLimits>();
        if (limits.Any) app.Use(limits.Invoke);
    }
}
