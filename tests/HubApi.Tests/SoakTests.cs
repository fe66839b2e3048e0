using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>
/// A bounded soak of the real server on loopback: 8 writers incrementing shared counters with If-Match
/// read-modify-write, and 32 readers, for 20 s (HUBAPI_SOAK_SECONDS to change). No 5xx, no transport error, no lost
/// update, and the server's memory flat.
/// </summary>
[Collection(LoadCollection.Name)]
public sealed class SoakTests(ITestOutputHelper output)
{
    private const string AdminKey = "soak-admin-key-0123456789";
    private const int Writers = 8;
    private const int Readers = 32;
    private const int Counters = 4;
    private const long MaxGrowthBytes = 100L * 1024 * 1024;

    private static TimeSpan Duration =>
        TimeSpan.FromSeconds(int.TryParse(Environment.GetEnvironmentVariable("HUBAPI_SOAK_SECONDS"), out var s) && s > 0 ? s : 20);

    private readonly ConcurrentQueue<string> failures = new();
    private readonly ConcurrentDictionary<int, int> statuses = new();
    private readonly long[] increments = new long[Counters];
    private long reads, stale, slowest;

    [Fact]
    public async Task WritersAndReadersOnLoopbackLoseNothingAndKeepMemoryFlat()
    {
        var path = Faults.TempDatabase();
        using (var server = await ServerProcess.StartAsync(path, new Dictionary<string, string> { ["Auth__AdminKey"] = AdminKey }))
        {
            var client = server.Client;
            for (var c = 0; c < Counters; c++)
            {
                (await client.Send(HttpMethod.Post, "/v1/targets", $$"""{"id":"soak-counter-{{c}}","name":"Soak counter {{c}}","deadline":2030,"value":0,"unit":"increments"}""", AdminKey))
                    .EnsureSuccessStatusCode();
            }
            // Warm up (JIT, pools, caches) with a few seconds of the same traffic, then measure from a settled start.
            await Load(client, TimeSpan.FromSeconds(3));
            var warmUpIncrements = increments.Sum();
            var warmUpRequests = statuses.Values.Sum();
            if (!failures.IsEmpty) await Task.Delay(1000); // let the server's log lines arrive
            Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)) + "\nServer errors:\n" + server.Errors);
            var rssStart = server.ResidentBytes();
            var rssPeak = rssStart;
            reads = stale = slowest = 0;
            statuses.Clear();
            var clock = Stopwatch.StartNew();
            var load = Load(client, Duration);
            while (!load.IsCompleted)
            {
                await Task.WhenAny(load, Task.Delay(1000));
                rssPeak = Math.Max(rssPeak, server.ResidentBytes());
            }
            await load;
            var elapsed = clock.Elapsed;
            var rssEnd = server.ResidentBytes();

            // No lost update: each counter's value is the number of increments acknowledged (warm-up included), and its
            // version one more than that; replaying the change feed gives the same version.
            var feed = await WriteLoad.Replay(client);
            var finals = new List<string>();
            for (var c = 0; c < Counters; c++)
            {
                var record = await client.Json($"/v1/targets/soak-counter-{c}");
                var value = (long)record["value"]!.GetValue<double>();
                var version = record["version"]!.GetValue<long>();
                finals.Add($"{value}");
                Assert.True(value == increments[c], $"counter {c}: value {value}, {increments[c]} increments acknowledged");
                Assert.Equal(increments[c] + 1, version);
                Assert.Equal(version, feed[$"targets/soak-counter-{c}"]);
            }
            var acknowledged = increments.Sum() - warmUpIncrements;
            var requests = statuses.Values.Sum();
            var summary =
                $"{Writers} writers + {Readers} readers for {elapsed.TotalSeconds:0.0} s on loopback: {requests} requests " +
                $"({requests / elapsed.TotalSeconds:0}/s): {reads} reads, {acknowledged} acknowledged increments, {stale} 412s retried; " +
                $"statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}×{s.Value}"))}; slowest {slowest} ms; " +
                $"counters {string.Join(", ", finals)}; server RSS {Mb(rssStart)} → {Mb(rssEnd)} MB (peak {Mb(rssPeak)} MB, growth {Mb(rssEnd - rssStart)} MB); " +
                $"after a 3 s warm-up of {warmUpRequests} requests.";
            output.WriteLine(summary);
            if (!failures.IsEmpty) await Task.Delay(1000);
            Assert.True(failures.IsEmpty, $"{failures.Count} failures, first: {string.Join("\n", failures.Take(10))}\n{summary}\nServer errors:\n{server.Errors}");
            Assert.DoesNotContain(statuses.Keys, s => s >= 500);
            Assert.True(acknowledged > Duration.TotalSeconds * 5, summary);
            Assert.True(rssEnd - rssStart < MaxGrowthBytes, summary);
            Assert.Equal(0, await server.TerminateAsync());
        }
        if (!TestDatabase.Postgres) Assert.Equal("ok", Faults.IntegrityCheck(path));
        Faults.Delete(path);
    }

    private static string Mb(long bytes) => $"{bytes / (1024.0 * 1024):0.0}";

    private Task Load(HttpClient client, TimeSpan duration)
    {
        using var _ = ExecutionContext.SuppressFlow();
        var until = DateTime.UtcNow + duration;
        var random = new Random(20260107);
        var tasks = new List<Task>();
        for (var w = 0; w < Writers; w++)
        {
            var seed = random.Next();
            tasks.Add(Task.Run(() => Writer(client, new Random(seed), until)));
        }
        for (var r = 0; r < Readers; r++)
        {
            var seed = random.Next();
            tasks.Add(Task.Run(() => Reader(client, new Random(seed), until)));
        }
        return Task.WhenAll(tasks);
    }

    private async Task Writer(HttpClient client, Random random, DateTime until)
    {
        while (DateTime.UtcNow < until)
        {
            var c = random.Next(Counters);
            var url = $"/v1/targets/soak-counter-{c}";
            await Guard($"increment {url}", async () =>
            {
                // Read, add one, write back only if nobody wrote in between; else read again.
                while (true)
                {
                    string etag;
                    double value;
                    using (var get = await Timed(() => client.GetAsync(url)))
                    {
                        if (!Expect(get, HttpStatusCode.OK)) return;
                        etag = get.Headers.ETag!.Tag;
                        value = JsonNode.Parse(await get.Content.ReadAsStringAsync())!["value"]!.GetValue<double>();
                    }
                    using var patch = await Timed(() => client.Send(HttpMethod.Patch, url, $$"""{"value":{{value + 1}}}""", AdminKey, etag, Writes.MergePatch));
                    Count(patch.StatusCode);
                    if (patch.StatusCode == HttpStatusCode.OK)
                    {
                        Interlocked.Increment(ref increments[c]);
                        return;
                    }
                    if (patch.StatusCode != HttpStatusCode.PreconditionFailed)
                    {
                        failures.Enqueue($"PATCH {url}: {(int)patch.StatusCode} {await patch.Content.ReadAsStringAsync()}");
                        return;
                    }
                    Interlocked.Increment(ref stale);
                }
            });
        }
    }

    private static readonly string[] ReadUrls =
    [
        "/v1/zones", "/v1/zones/lingang", "/v1/zones/zhangjiang/firms", "/v1/firms?include=zone,industries", "/v1/industries?sort=-name&limit=5",
        "/v1/industries?strategic=true&fields=id,name", "/v1/targets?q=digital", "/v1/targets?sort=-value&limit=10", "/v1/services?fields=id,name&limit=3",
        "/v1/changes?limit=50", "/v1/projects?include=firm,zone", "/v1/indicators?count=true", "/v1/sources/shanghai-digital-hub", "/health/ready",
    ];

    private async Task Reader(HttpClient client, Random random, DateTime until)
    {
        var etags = new Dictionary<string, string>();
        while (DateTime.UtcNow < until)
        {
            var url = random.Next(4) == 0 ? $"/v1/targets/soak-counter-{random.Next(Counters)}" : ReadUrls[random.Next(ReadUrls.Length)];
            await Guard($"GET {url}", async () =>
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, url);
                // Half the time revalidate what was read before: 304 while nothing changed.
                var revalidate = random.Next(2) == 0 && etags.ContainsKey(url);
                if (revalidate) request.Headers.IfNoneMatch.Add(new EntityTagHeaderValue(etags[url]));
                using var response = await Timed(() => client.SendAsync(request));
                Count(response.StatusCode);
                Interlocked.Increment(ref reads);
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    await response.Content.ReadAsByteArrayAsync();
                    if (response.Headers.ETag is { } etag) etags[url] = etag.Tag;
                }
                else if (!(revalidate && response.StatusCode == HttpStatusCode.NotModified))
                {
                    failures.Enqueue($"GET {url}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            });
        }
    }

    private bool Expect(HttpResponseMessage response, HttpStatusCode expected)
    {
        Count(response.StatusCode);
        if (response.StatusCode == expected) return true;
        failures.Enqueue($"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery}: {(int)response.StatusCode}");
        return false;
    }

    private void Count(HttpStatusCode status) => statuses.AddOrUpdate((int)status, 1, (_, n) => n + 1);

    private async Task<T> Timed<T>(Func<Task<T>> send)
    {
        var clock = Stopwatch.StartNew();
        var result = await send();
        var ms = clock.ElapsedMilliseconds;
        long seen;
        while (ms > (seen = Interlocked.Read(ref slowest)) && Interlocked.CompareExchange(ref slowest, ms, seen) != seen) { }
        return result;
    }

    private async Task Guard(string what, Func<Task> action)
    {
        try
        {
            await action();
        }
        catch (Exception e)
        {
            failures.Enqueue($"{what}: {e.GetType().Name}: {e.Message}");
        }
    }
}
