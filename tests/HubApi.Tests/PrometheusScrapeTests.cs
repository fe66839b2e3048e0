using System.Globalization;
using System.Net;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>
/// Runs where test.sh has started Debian's Prometheus: HUBAPI_TEST_PROMETHEUS is its address, and
/// HUBAPI_TEST_PROMETHEUS_TARGETS the file it discovers its scrape targets in (scraped every second).
/// </summary>
public sealed class PrometheusFactAttribute : FactAttribute
{
    public PrometheusFactAttribute()
    {
        if (PrometheusScrapeTests.Address is null || PrometheusScrapeTests.Targets is null)
            Skip = "needs a Prometheus to scrape the service (test.sh starts one: HUBAPI_TEST_PROMETHEUS, HUBAPI_TEST_PROMETHEUS_TARGETS)";
    }
}

/// <summary>A real Prometheus scrapes the real service; PromQL then counts exactly the requests and cache hits this test made.</summary>
public sealed class PrometheusScrapeTests
{
    public static string? Address { get; } = Environment.GetEnvironmentVariable("HUBAPI_TEST_PROMETHEUS");
    public static string? Targets { get; } = Environment.GetEnvironmentVariable("HUBAPI_TEST_PROMETHEUS_TARGETS");

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrometheusFact]
    public async Task PrometheusCountsTheRequestsAndCacheHitsThisTestCaused()
    {
        var run = Guid.NewGuid().ToString("N");
        var database = TestDatabase.NewName("scrape");
        using var prometheus = new HttpClient { BaseAddress = new Uri(Address!), Timeout = TimeSpan.FromSeconds(10) };
        try
        {
            using var server = await ServerProcess.StartAsync(database);
            // This server, with a label of this run's own, becomes Prometheus's target (file discovery notices the new file).
            var targets = new JsonArray(new JsonObject
            {
                ["targets"] = new JsonArray($"127.0.0.1:{server.Port}"),
                ["labels"] = new JsonObject { ["run"] = run },
            });
            await SetTargets(targets.ToJsonString());
            await Until(prometheus, [$"up{{run=\"{run}\"}}"], [1]);

            // One miss renders the record; four hits serve it; three revalidations are answered 304 from the cache.
            const string url = "/v1/firms/smic";
            var etag = await server.Client.ETag(url);
            for (var i = 0; i < 4; i++) Assert.Equal(etag, await server.Client.ETag(url));
            for (var i = 0; i < 3; i++)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                request.Headers.TryAddWithoutValidation("If-None-Match", etag);
                using var response = await server.Client.SendAsync(request);
                Assert.Equal(HttpStatusCode.NotModified, response.StatusCode);
            }

            var route = $"run=\"{run}\",http_route=\"/v1/firms/{{id}}\"";
            await Until(prometheus,
                [
                    $"sum(http_server_request_duration_seconds_count{{{route}}})",
                    $"sum(http_server_request_duration_seconds_count{{{route},http_response_status_code=\"304\"}})",
                    $"sum(hubapi_response_cache_hits_total{{run=\"{run}\"}})",
                    $"sum(hubapi_response_cache_misses_total{{run=\"{run}\"}})",
                ],
                [8, 3, 7, 1]);
        }
        finally
        {
            await SetTargets("[]");
            if (TestDatabase.Postgres) TestDatabase.Drop(database);
            else foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(database + suffix);
        }
    }

    /// <summary>Replaces Prometheus's targets file at once: it reads the file whenever it changes.</summary>
    private static async Task SetTargets(string json)
    {
        await File.WriteAllTextAsync(Targets + ".new", json);
        File.Move(Targets + ".new", Targets!, overwrite: true);
    }

    /// <summary>
    /// Waits until each PromQL query answers exactly its expected value (a scrape or two after the requests), and fails
    /// with the last answers if they never do. A value past the expected one never comes back down: counters only grow.
    /// </summary>
    private static async Task Until(HttpClient prometheus, string[] queries, double[] expected)
    {
        var deadline = DateTime.UtcNow + Patience;
        var answers = new double?[queries.Length];
        while (true)
        {
            for (var i = 0; i < queries.Length; i++) answers[i] = await Query(prometheus, queries[i]);
            if (answers.Select(a => a ?? double.NaN).SequenceEqual(expected)) return;
            if (DateTime.UtcNow > deadline) break;
            await Task.Delay(250);
        }
        Assert.Fail("Prometheus never answered as expected:\n" + string.Join("\n",
            queries.Select((q, i) => $"{q} = {answers[i]?.ToString(CultureInfo.InvariantCulture) ?? "(no series)"}, expected {expected[i]}")));
    }

    /// <summary>An instant query's single value, or null when no series matches.</summary>
    private static async Task<double?> Query(HttpClient prometheus, string promql)
    {
        var answer = await prometheus.Json("/api/v1/query?query=" + Uri.EscapeDataString(promql));
        Assert.Equal("success", answer["status"]!.GetValue<string>());
        var result = answer["data"]!["result"]!.AsArray();
        return result.Count == 0 ? null : double.Parse(result[0]!["value"]![1]!.GetValue<string>(), CultureInfo.InvariantCulture);
    }
}
