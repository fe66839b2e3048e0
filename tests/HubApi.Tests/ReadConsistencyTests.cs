using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>
/// A read made while writes go on shows each record as one of its versions: its row, its links and its citations
/// from the same moment, never the row of one version with the links of the next.
/// </summary>
public sealed class ReadConsistencyTests(ITestOutputHelper output) : WriteTest
{
    private static string Version(char state) => state == 'A'
        ? """{"name":"Flip","zone":"lingang","industries":["integrated-circuits"],"description":"A","citations":[{"source":"shanghai-digital-hub","quote":"A"}]}"""
        : """{"name":"Flip","zone":"zhangjiang","industries":["artificial-intelligence","biomedicine"],"description":"B","citations":[{"source":"shanghai-digital-hub","quote":"B"}]}""";

    /// <summary>The description names the state; everything else must belong to that same state.</summary>
    private static string? Inconsistency(JsonNode firm)
    {
        var state = firm["description"]!.GetValue<string>();
        var industries = string.Join(",", firm["industries"]!.AsArray().Select(i => i!.GetValue<string>()));
        var zone = firm["zone"]!.GetValue<string>();
        var quote = firm["citations"]!.AsArray().Single()!["quote"]!.GetValue<string>();
        // Included records are those the links of the same version name.
        if (firm["embedded"] is JsonObject embedded)
        {
            var embeddedIndustries = embedded["industries"] is JsonArray e ? string.Join(",", e.Select(i => i!["id"]!.GetValue<string>())) : industries;
            var embeddedZone = embedded["zone"]?["id"]?.GetValue<string>() ?? zone;
            if ((embeddedIndustries, embeddedZone) != (industries, zone))
                return $"state {state} v{firm["version"]}: links {industries} / {zone}, embedded {embeddedIndustries} / {embeddedZone}";
        }
        var expected = state == "A" ? ("integrated-circuits", "lingang") : ("artificial-intelligence,biomedicine", "zhangjiang");
        return (industries, zone, quote) == (expected.Item1, expected.Item2, state) ? null : $"state {state} v{firm["version"]}: industries {industries}, zone {zone}, quote {quote}";
    }

    [Fact]
    public async Task ReadsUnderConcurrentWritesShowOneVersionOfEachRecord()
    {
        (await Post("/v1/firms", Version('A').Replace("\"name\":\"Flip\"", "\"id\":\"flip\",\"name\":\"Flip\""))).EnsureSuccessStatusCode();
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(4));
        var writes = 0;
        var writer = Task.Run(async () =>
        {
            for (var i = 1; !stop.IsCancellationRequested; i++)
            {
                using var response = await Put("/v1/firms/flip", Version(i % 2 == 0 ? 'A' : 'B'), "*");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                writes++;
            }
        });
        var seen = new ConcurrentQueue<string>();
        var reads = 0;
        var readers = Enumerable.Range(0, 4).Select(r => Task.Run(async () =>
        {
            string[] urls = ["/v1/firms/flip", "/v1/firms/flip?include=industries,zone", "/v1/firms?zone=lingang,zhangjiang&include=industries", "/v1/industries/biomedicine/firms"];
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var url = urls[(i + r) % urls.Length];
                var body = await Client.Json(url);
                Interlocked.Increment(ref reads);
                var firms = body["items"] is JsonArray items ? items.Where(f => f!["id"]!.GetValue<string>() == "flip") : [body];
                foreach (var firm in firms)
                {
                    if (Inconsistency(firm!) is { } problem) seen.Enqueue($"GET {url}: {problem}");
                }
            }
        })).ToList();
        await Task.WhenAll([writer, .. readers]);
        output.WriteLine($"{writes} replacing writes, {reads} reads, {seen.Count} torn reads");
        Assert.True(seen.IsEmpty, $"{seen.Count} of {reads} reads mixed two versions, e.g.:\n{string.Join("\n", seen.Take(5))}");
    }
}
