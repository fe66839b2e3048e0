using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using HubApi.Observability;

namespace HubApi.Tests;

/// <summary>
/// Metrics at /metrics in Prometheus text format: the service's own instruments and ASP.NET Core's request durations by
/// route, anonymous by default, behind the admin scope or on a port of their own when set so; spans for SQL and commits.
/// </summary>
public sealed class TelemetryTests : WriteTest
{
    private static readonly Regex Sample = new(@"^(?<name>[a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?<labels>.*)\})? (?<value>\S+)$", RegexOptions.Multiline);

    /// <summary>Every sample of a metric in a scrape: its labels (as written) and its value.</summary>
    private static List<(string Labels, double Value)> Samples(string scrape, string name) =>
        [.. Sample.Matches(scrape).Where(m => m.Groups["name"].Value == name)
            .Select(m => (m.Groups["labels"].Value, double.Parse(m.Groups["value"].Value, System.Globalization.CultureInfo.InvariantCulture)))];

    private async Task<string> Scrape(HttpClient? client = null, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/metrics");
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        using var response = await (client ?? Client).SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"/metrics: {(int)response.StatusCode} {body}");
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        return body;
    }

    [Fact]
    public async Task MetricsAreServedInPrometheusTextWithRequestDurationsByRouteAndTheServiceInstruments()
    {
        const string url = "/v1/firms/smic";
        var etag = await Client.ETag(url);
        await Client.ETag(url);
        using (var request = new HttpRequestMessage(HttpMethod.Get, url))
        {
            request.Headers.TryAddWithoutValidation("If-None-Match", etag);
            using var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
        }

        var scrape = await Scrape();
        // Request durations by route template and status, in histogram buckets.
        var byRoute = Samples(scrape, "http_server_request_duration_seconds_count")
            .Where(s => s.Labels.Contains("http_route=\"/v1/firms/{id}\"")).ToList();
        Assert.Contains(byRoute, s => s.Labels.Contains("http_response_status_code=\"200\"") && s.Value >= 2);
        Assert.Contains(byRoute, s => s.Labels.Contains("http_response_status_code=\"304\"") && s.Value >= 1);
        Assert.Contains("# TYPE http_server_request_duration_seconds histogram", scrape);
        Assert.Contains(Samples(scrape, "http_server_request_duration_seconds_bucket"), s => s.Labels.Contains("le=\"0.0001\""));
        // The service's own instruments (the figures are the process's: other tests run beside this one).
        Assert.Contains(Samples(scrape, "hubapi_response_cache_hits_total"), s => s.Value >= 2);
        Assert.Contains(Samples(scrape, "hubapi_response_cache_misses_total"), s => s.Value >= 1);
        Assert.NotEmpty(Samples(scrape, "hubapi_response_cache_entries"));
        Assert.NotEmpty(Samples(scrape, "hubapi_write_queue_depth"));
        Assert.Contains(Samples(scrape, "hubapi_change_feed_sequence"), s => s.Value > 0);
        // The runtime and the process.
        Assert.NotEmpty(Samples(scrape, "dotnet_gc_collections_total"));
        Assert.NotEmpty(Samples(scrape, "process_cpu_time_seconds_total"));
        // Route templates only: no record data, no ids.
        Assert.DoesNotContain("smic", scrape);
        // Scrapes are not counted as requests of the API.
        Assert.DoesNotContain("http_route=\"/metrics\"", scrape);
    }

    [Fact]
    public async Task AWriteShowsItsCommitAndRetiresCachedAnswers()
    {
        const string url = "/v1/firms/smic";
        var etag = await Client.ETag(url);
        (await Patch(url, """{"description":"Measured."}""", etag)).EnsureSuccessStatusCode();

        var scrape = await Scrape();
        Assert.Contains(Samples(scrape, "hubapi_commit_duration_seconds_count"), s => s.Value >= 1);
        Assert.Contains(Samples(scrape, "hubapi_commit_batch_size_count"), s => s.Value >= 1);
        Assert.Contains(Samples(scrape, "hubapi_response_cache_retirements_total"), s => s.Labels.Contains("reason=\"write\"") && s.Value >= 1);
        Assert.Contains(Samples(scrape, "http_server_request_duration_seconds_count"),
            s => s.Labels.Contains("http_request_method=\"PATCH\"") && s.Labels.Contains("http_route=\"/v1/firms/{id}\""));
    }

    [Fact]
    public async Task WithTheAdminScopeSetMetricsNeedAnAdminKey()
    {
        Factory.With("Telemetry:MetricsScope", "admin");
        var problem = await Client.Problem("/metrics", HttpStatusCode.Unauthorized);
        Assert.Contains("admin", problem["detail"]!.GetValue<string>());

        var writer = CreateKey("writer-only", "write");
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/metrics"))
        {
            request.Headers.Add("X-Api-Key", writer);
            using var response = await Client.SendAsync(request);
            var forbidden = await response.AssertProblem(HttpStatusCode.Forbidden);
            Assert.Contains("'admin'", forbidden["detail"]!.GetValue<string>());
        }

        Assert.Contains("hubapi_", await Scrape(key: AdminKey));
        // Reads stay anonymous.
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/firms/smic")).StatusCode);
    }

    [Fact]
    public async Task ScrapesAreNotRateLimitedButTheirRejectionsOfOthersAreCounted()
    {
        Factory.With("RateLimiting:AnonymousPermitsPerMinute", "1");
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/firms/smic")).StatusCode);
        await Client.Problem("/v1/firms/smic", HttpStatusCode.TooManyRequests);
        for (var i = 0; i < 3; i++)
        {
            var scrape = await Scrape();
            Assert.Contains(Samples(scrape, "hubapi_rate_limit_rejections_total"), s => s.Labels.Contains("policy=\"anonymous\"") && s.Value >= 1);
        }
    }

    [Fact, Trait("Provider", "Sqlite")]
    public async Task ABusyDatabaseAnswered503IsCounted()
    {
        var etag = await Client.ETag("/v1/zones/lingang");
        using (var locker = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Factory.DatabasePath};Pooling=False;Default Timeout=1"))
        {
            locker.Open();
            using var command = locker.CreateCommand();
            command.CommandText = "begin immediate; update zones set name = name where id = 'lingang';";
            command.ExecuteNonQuery();
            using var write = await Patch("/v1/zones/lingang", """{"description":"Locked out."}""", etag);
            await write.AssertProblem(HttpStatusCode.ServiceUnavailable);
        }
        Assert.Contains(Samples(await Scrape(), "hubapi_database_faults_total"),
            s => s.Labels.Contains("http_response_status_code=\"503\"") && s.Value >= 1);
    }

    [Fact]
    public async Task WithMetricsOffThereIsNoMetricsEndpoint()
    {
        Factory.With("Telemetry:Metrics", "false");
        await Client.Problem("/metrics", HttpStatusCode.NotFound);
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/firms/smic")).StatusCode);
    }

    [Fact]
    public async Task AWriteIsTracedThroughItsSqlAndItsCommitUnderTheRequestTrace()
    {
        var trace = ActivityTraceId.CreateRandom();
        var spans = new List<Activity>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name is Instruments.Name or "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> options) =>
                options.TraceId == trace ? ActivitySamplingResult.AllDataAndRecorded : ActivitySamplingResult.None,
            ActivityStopped = span => { lock (spans) spans.Add(span); },
        };
        ActivitySource.AddActivityListener(listener);

        const string url = "/v1/firms/smic";
        var etag = await Client.ETag(url);
        using var request = new HttpRequestMessage(HttpMethod.Patch, url)
        {
            Content = new StringContent("""{"description":"Traced."}""", System.Text.Encoding.UTF8, Writes.MergePatch),
        };
        request.Headers.Add("X-Api-Key", AdminKey);
        request.Headers.TryAddWithoutValidation("If-Match", etag);
        request.Headers.Add("traceparent", $"00-{trace}-{ActivitySpanId.CreateRandom()}-01");
        (await Client.SendAsync(request)).EnsureSuccessStatusCode();

        List<Activity> seen;
        lock (spans) seen = [.. spans];
        var engine = TestDatabase.Postgres ? "postgresql" : "sqlite";
        Assert.Contains(seen, s => s.DisplayName == "UPDATE firms" && s.Kind == ActivityKind.Client && (string?)s.GetTagItem("db.system.name") == engine);
        Assert.Contains(seen, s => s.DisplayName == "COMMIT");
        // On PostgreSQL, Npgsql's own spans of each command sit under ours.
        if (TestDatabase.Postgres) Assert.Contains(seen, s => s.Source.Name == "Npgsql" && s.Parent?.DisplayName == "UPDATE firms");
        Assert.All(seen, s => Assert.Equal(trace, s.TraceId));
    }

    /// <summary>Runs the keys CLI in-process with this test's service and its database.</summary>
    private string CreateKey(string name, string scope)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var store = (HubApi.Data.IStore)Factory.Services.GetService(typeof(HubApi.Data.IStore))!;
        var code = HubApi.Keys.KeysCli.Run(HubApi.CommandLine.Parse(["keys", "create", "--name", name, "--scope", scope]), store, output, error);
        Assert.True(code == 0, error.ToString());
        return output.ToString().Trim();
    }
}

/// <summary>Telemetry on the real server: the metrics port, and trace ids in its log lines with OTLP export on.</summary>
public sealed class TelemetryProcessTests
{
    [Fact]
    public async Task WithOtlpExportOnLogLinesCarryTheRequestTraceId()
    {
        var database = TestDatabase.NewName("otlp");
        try
        {
            // Nothing listens there: the exporter gives up quietly, and the service answers as ever.
            using var server = await ServerProcess.StartAsync(database, new Dictionary<string, string> { ["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:9" });
            var trace = System.Diagnostics.ActivityTraceId.CreateRandom().ToString();
            using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/firms/smic");
            request.Headers.Add("X-Api-Key", "an-unknown-key-0123456789");
            request.Headers.Add("traceparent", $"00-{trace}-{System.Diagnostics.ActivitySpanId.CreateRandom()}-01");
            using var response = await server.Client.SendAsync(request); // the handler logs the unknown key
            var line = "";
            for (var i = 0; i < 50 && line.Length == 0; i++)
            {
                line = server.Output.Split('\n').FirstOrDefault(l => l.Contains("was not authenticated")) ?? "";
                if (line.Length == 0) await Task.Delay(100);
            }
            Assert.Contains($"\"TraceId\":\"{trace}\"", line);
        }
        finally
        {
            if (TestDatabase.Postgres) TestDatabase.Drop(database);
            else foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(database + suffix);
        }
    }

    [Fact]
    public async Task WithAMetricsPortTheMetricsMoveThereAndTheApiStaysOnItsOwn()
    {
        var metricsPort = ServerProcess.FreePort();
        var database = TestDatabase.NewName("metrics-port");
        try
        {
            using var server = await ServerProcess.StartAsync(database, new Dictionary<string, string> { ["Telemetry__MetricsPort"] = metricsPort.ToString() });
            using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };

            Assert.Equal(HttpStatusCode.OK, (await server.Client.GetAsync("/v1/firms/smic")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await server.Client.GetAsync("/metrics")).StatusCode);

            using var scrape = await metrics.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, scrape.StatusCode);
            Assert.Contains("http_route=\"/v1/firms/{id}\"", await scrape.Content.ReadAsStringAsync());
            Assert.Equal(HttpStatusCode.NotFound, (await metrics.GetAsync("/v1/firms/smic")).StatusCode);
        }
        finally
        {
            if (TestDatabase.Postgres) TestDatabase.Drop(database);
            else foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(database + suffix);
        }
    }
}
