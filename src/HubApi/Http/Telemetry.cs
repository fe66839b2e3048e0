using HubApi.Data;
using HubApi.Observability;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace HubApi.Http;

/// <summary>
/// OpenTelemetry metrics and traces. Metrics (on unless Telemetry:Metrics is false) are served at <see cref="MetricsPath"/>
/// in Prometheus text format: ASP.NET Core's request duration by route and status, Kestrel's connections, the runtime
/// and the process, and the service's own <see cref="Instruments"/>. They carry no record data, so they answer without a
/// key unless Telemetry:MetricsScope names the scope a key needs (admin), or Telemetry:MetricsPort moves them to a port of
/// their own. OTLP export of traces, metrics and logs turns on with the standard OTEL_EXPORTER_OTLP_ENDPOINT.
/// </summary>
public static class Telemetry
{
    public const string MetricsPath = "/metrics";

    /// <summary>
    /// The meters read besides the service's own: ASP.NET Core's requests, connections and exceptions, and Npgsql's
    /// commands and pool. Not ASP.NET Core's routing and rate-limiting meters: they record on every request what the
    /// request durations and hubapi.rate_limit.rejections already say.
    /// </summary>
    private static readonly string[] Meters =
    [
        Instruments.Name, "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Diagnostics", "Npgsql",
    ];

    /// <summary>
    /// Request durations from 100 µs: ASP.NET Core's default buckets start at 5 ms, where a cached answer of this service
    /// is long done, and would put every request of a healthy server in the first bucket.
    /// </summary>
    private static readonly double[] RequestBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    /// <summary>
    /// Each instrument's stream, with room for the series it can have, rather than the SDK's default of 2,000 series
    /// each, allocated up front even for instruments that have one series or a handful.
    /// </summary>
    private static MetricStreamConfiguration Stream(System.Diagnostics.Metrics.Instrument instrument) => instrument.Name switch
    {
        // Routes × methods × statuses.
        "http.server.request.duration" => new ExplicitBucketHistogramConfiguration { Boundaries = RequestBuckets, CardinalityLimit = 1000 },
        _ => new MetricStreamConfiguration { CardinalityLimit = 100 },
    };

    /// <summary>Telemetry:Metrics, Telemetry:MetricsPort and Telemetry:MetricsScope, checked at start-up.</summary>
    private sealed record Settings(bool Metrics, int? Port, string? Scope, bool Otlp)
    {
        public static Settings From(IConfiguration configuration)
        {
            var section = configuration.GetSection("Telemetry");
            var port = section.GetValue<int?>("MetricsPort");
            if (port is < 1 or > 65535) throw new InvalidOperationException("Telemetry:MetricsPort must be a TCP port (1-65535).");
            var scope = section["MetricsScope"] is { Length: > 0 } s ? s : null;
            if (scope is not null && !ApiKeys.KnownScopes.Contains(scope))
                throw new InvalidOperationException($"Telemetry:MetricsScope must be one of {string.Join(", ", ApiKeys.KnownScopes)}, or empty for no key.");
            return new(section.GetValue("Metrics", true), port, scope, !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]));
        }
    }

    public static void AddHubTelemetry(this WebApplicationBuilder builder)
    {
        var settings = Settings.From(builder.Configuration);
        builder.Services.AddSingleton(settings);
        if (!settings.Metrics && !settings.Otlp) return;

        var telemetry = builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource =>
            {
                if (builder.Configuration["OTEL_SERVICE_NAME"] is null) resource.AddService("hubapi");
            });
        if (settings.Metrics)
        {
            telemetry.WithMetrics(metrics =>
            {
                metrics.AddMeter(Meters)
                    .AddRuntimeInstrumentation()
                    .AddProcessInstrumentation()
                    .AddView(Stream)
                    .AddPrometheusExporter();
            });
        }
        if (settings.Otlp)
        {
            // Traces go nowhere but OTLP: without it, the spans are not even made (the logs carry trace ids either way).
            telemetry.WithTracing(tracing => tracing
                    .AddAspNetCoreInstrumentation(o => o.Filter = http => !IsProbe(http.Request.Path))
                    .AddSource(Instruments.Name)
                    .AddSource("Npgsql"))
                .UseOtlpExporter();
        }

        if (settings.Scope is { } scope)
        {
            builder.Services.AddAuthorizationBuilder().AddPolicy(scope, policy => policy
                .AddAuthenticationSchemes(ApiKeyAuthentication.Scheme)
                .RequireAuthenticatedUser()
                .RequireClaim(ApiKeyAuthentication.ScopeClaim, scope));
        }
        if (settings.Port is { } port)
        {
            // Listen on the metrics port besides the service's own addresses (urls, ASPNETCORE_URLS or HTTP_PORTS).
            var urls = builder.Configuration["urls"] is { Length: > 0 } configured ? configured
                : builder.Configuration["http_ports"] is { Length: > 0 } ports ? string.Join(';', ports.Split(';').Select(p => $"http://*:{p.Trim()}"))
                : "http://localhost:5000";
            builder.WebHost.UseUrls($"{urls};http://*:{port}");
        }
    }

    private static bool IsProbe(PathString path) => path.StartsWithSegments(MetricsPath) || path.StartsWithSegments("/health");

    /// <summary>With Telemetry:MetricsPort, that port serves the metrics and nothing else, and the others serve everything but them.</summary>
    public static void UseHubTelemetry(this WebApplication app)
    {
        if (app.Services.GetRequiredService<Settings>() is not { Metrics: true, Port: { } port }) return;
        app.Use((http, next) =>
        {
            if ((http.Connection.LocalPort == port) == http.Request.Path.Equals(MetricsPath, StringComparison.Ordinal)) return next(http);
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }

    public static void MapHubMetrics(this WebApplication app)
    {
        var settings = app.Services.GetRequiredService<Settings>();
        if (!settings.Metrics) return;
        // Scrapes are not requests of the API: they stay out of its request metrics and rate limits, and out of its document.
        var endpoint = app.MapPrometheusScrapingEndpoint(MetricsPath)
            .DisableHttpMetrics()
            .DisableRateLimiting()
            .ExcludeFromDescription();
        if (settings.Scope is { } scope) endpoint.RequireAuthorization(scope);
    }
}
