using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.Http.Timeouts;
using Microsoft.AspNetCore.RateLimiting;

namespace HubApi.Http;

/// <summary>Limits, time-outs, rate limits and security headers: what a public API needs before its first request.</summary>
public static class Hardening
{
    /// <summary>How long a request may run before it is answered 503 (exports and the change stream opt out).</summary>
    public static readonly TimeSpan RequestTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Requests per minute per client address without a key, and per API key; 0 switches one off.</summary>
    private static (int Anonymous, int Keyed) RateLimits(IConfiguration configuration)
    {
        var settings = configuration.GetSection("RateLimiting");
        return (settings.GetValue("AnonymousPermitsPerMinute", 600), settings.GetValue("KeyedPermitsPerMinute", 3000));
    }

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

        var (anonymous, keyed) = RateLimits(builder.Configuration);
        builder.Services.AddRateLimiter(o =>
        {
            // Keyed clients are partitioned by their key, anonymous ones by their address; 0 switches a budget off.
            o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(http =>
            {
                var key = http.User.Identity?.IsAuthenticated == true ? http.User.Identity.Name : null;
                var (partition, permits) = key is not null
                    ? ("key:" + key, keyed)
                    : ("ip:" + http.Connection.RemoteIpAddress, anonymous);
                return permits <= 0
                    ? RateLimitPartition.GetNoLimiter(partition)
                    : RateLimitPartition.GetFixedWindowLimiter(partition, _ => new FixedWindowRateLimiterOptions
                    {
                        PermitLimit = permits, Window = TimeSpan.FromMinutes(1), QueueLimit = 0,
                    });
            });
            o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            o.OnRejected = async (context, cancel) =>
            {
                var retryAfter = context.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);
                context.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests,
                    detail: "Too many requests; retry after the number of seconds in Retry-After.").ExecuteAsync(context.HttpContext);
            };
        });
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
        // With both budgets switched off (benchmarks), the limiter is left out of the pipeline altogether.
        if (RateLimits(app.Configuration) is not (0, 0)) app.UseRateLimiter();
    }
}
