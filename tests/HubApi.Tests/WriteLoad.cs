using System.Collections.Concurrent;
using System.Net;
using System.Text.Json.Nodes;
using HubApi.Http;

namespace HubApi.Tests;

/// <summary>
/// Clients writing as partners do — creating firms and services (with links, citations and, for some, an
/// Idempotency-Key) and merge-patching records with If-Match — while keeping a ledger of every write the server
/// acknowledged with a 2xx. A write cut off by a crash or a shutdown is not acknowledged: it may or may not have
/// happened. Fault tests check the ledger against the data afterwards.
/// </summary>
public sealed class WriteLoad(string adminKey)
{
    /// <summary>"resource/id" → the highest version a 2xx answer reported.</summary>
    public ConcurrentDictionary<string, long> Acknowledged { get; } = new();

    /// <summary>Creates sent whose answer never came: they may or may not exist.</summary>
    public ConcurrentDictionary<string, Create> InDoubt { get; } = new();

    /// <summary>A create as sent: enough to send it again.</summary>
    public sealed record Create(string Url, string Body, string? IdempotencyKey);

    /// <summary>Answers no client should ever get (5xx, or anything else unplanned), with their bodies.</summary>
    public ConcurrentQueue<string> Unexpected { get; } = new();

    private int created, updated, stale, cut;
    public int Created => created;
    public int Updated => updated;
    public int Stale => stale;
    public int Cut => cut;
    public int AcknowledgedWrites => created + updated;

    /// <summary>The ledger as it is now: what was acknowledged before this moment.</summary>
    public Dictionary<string, long> Snapshot() => new(Acknowledged);

    /// <summary>Runs <paramref name="writers"/> clients until <paramref name="stop"/> fires or the server goes away.</summary>
    public Task Run(HttpClient client, string tag, int writers, int seed, CancellationToken stop, IReadOnlyList<string>? shared = null)
    {
        var random = new Random(seed);
        var seeds = Enumerable.Range(0, writers).Select(_ => random.Next()).ToList();
        return Task.WhenAll(seeds.Select((s, w) => Task.Run(() => Writer(client, $"{tag}-w{w}", s, shared ?? [], stop))));
    }

    private async Task Writer(HttpClient client, string tag, int seed, IReadOnlyList<string> shared, CancellationToken stop)
    {
        var random = new Random(seed);
        var mine = new List<string>();
        var etags = new Dictionary<string, string>();
        try
        {
            for (var n = 0; !stop.IsCancellationRequested; n++)
            {
                if (mine.Count == 0 || random.Next(10) < 4)
                {
                    var resource = random.Next(2) == 0 ? "services" : "firms";
                    var id = $"{tag}-{n}";
                    var key = $"{resource}/{id}";
                    var create = new Create($"/v1/{resource}", NewRecord(resource, id, n).ToJsonString(), random.Next(2) == 0 ? $"{tag}-{n}-{random.Next()}" : null);
                    InDoubt[key] = create;
                    using var response = await client.Send(HttpMethod.Post, create.Url, create.Body, adminKey, idempotencyKey: create.IdempotencyKey);
                    InDoubt.TryRemove(key, out _);
                    if (response.StatusCode != HttpStatusCode.Created)
                    {
                        await Unplanned(response);
                        continue;
                    }
                    Acknowledge(key, 1);
                    Interlocked.Increment(ref created);
                    mine.Add(key);
                    etags[key] = response.Headers.ETag!.Tag;
                }
                else
                {
                    // Half the time a record of its own, else one others write too: those meet 412s.
                    var key = shared.Count > 0 && random.Next(2) == 0 ? shared[random.Next(shared.Count)] : mine[random.Next(mine.Count)];
                    var url = "/v1/" + key;
                    if (!etags.TryGetValue(key, out var etag))
                    {
                        using var get = await client.GetAsync(url, stop);
                        if (get.StatusCode != HttpStatusCode.OK)
                        {
                            await Unplanned(get);
                            continue;
                        }
                        etag = get.Headers.ETag!.Tag;
                    }
                    using var response = await client.Send(HttpMethod.Patch, url, $$"""{"description":"{{tag}} step {{n}}"}""", adminKey, etag, Writes.MergePatch);
                    if (response.StatusCode == HttpStatusCode.OK)
                    {
                        var version = JsonNode.Parse(await response.Content.ReadAsStringAsync())!["version"]!.GetValue<long>();
                        Acknowledge(key, version);
                        Interlocked.Increment(ref updated);
                        etags[key] = response.Headers.ETag!.Tag;
                    }
                    else if (response.StatusCode == HttpStatusCode.PreconditionFailed)
                    {
                        Interlocked.Increment(ref stale);
                        etags.Remove(key);
                    }
                    else await Unplanned(response);
                }
            }
        }
        catch (Exception e) when (e is HttpRequestException or OperationCanceledException or IOException)
        {
            // The server went away (killed or stopping): this write's outcome is unknown, and the client stops.
            Interlocked.Increment(ref cut);
        }
    }

    public void Acknowledge(string key, long version) => Acknowledged.AddOrUpdate(key, version, (_, old) => Math.Max(old, version));

    private async Task Unplanned(HttpResponseMessage response) =>
        Unexpected.Enqueue($"{response.RequestMessage!.Method} {response.RequestMessage.RequestUri!.PathAndQuery}: {(int)response.StatusCode} " +
                           await response.Content.ReadAsStringAsync());

    private static JsonObject NewRecord(string resource, string id, int n)
    {
        var record = new JsonObject
        {
            ["id"] = id,
            ["name"] = $"Record {id}",
            ["description"] = $"Created as step {n}.",
            ["citations"] = new JsonArray(new JsonObject { ["source"] = "shanghai-digital-hub", ["quote"] = $"Quote {n}." }),
        };
        if (resource == "firms")
        {
            record["zone"] = n % 2 == 0 ? "lingang" : "zhangjiang";
            record["industries"] = new JsonArray("integrated-circuits", n % 3 == 0 ? "biomedicine" : "artificial-intelligence");
        }
        else
        {
            record["area"] = "economy";
            record["figure"] = $"{n}";
        }
        return record;
    }

    /// <summary>Every record the service serves, as "resource/id" → version, read page by page.</summary>
    public static async Task<SortedDictionary<string, long>> Current(HttpClient client, int pageSize = 100)
    {
        var current = new SortedDictionary<string, long>(StringComparer.Ordinal);
        foreach (var resource in Catalog.Resources.All)
        {
            string? cursor = null;
            do
            {
                var page = await client.Json($"/v1/{resource.Name}?limit={pageSize}&fields=id,version" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
                foreach (var record in page["items"]!.AsArray())
                    current[$"{resource.Name}/{record!["id"]}"] = record["version"]!.GetValue<long>();
                cursor = page["next"]?.GetValue<string>();
            }
            while (cursor is not null);
        }
        return current;
    }

    /// <summary>What replaying the change feed from the start yields: "resource/id" → version, deletions removed.</summary>
    public static async Task<SortedDictionary<string, long>> Replay(HttpClient client, int pageSize = 1000)
    {
        var replayed = new SortedDictionary<string, long>(StringComparer.Ordinal);
        long? after = 0;
        while (after is not null)
        {
            var page = await client.Json($"/v1/changes?after={after}&limit={pageSize}");
            foreach (var change in page["items"]!.AsArray())
            {
                var key = $"{change!["resource"]}/{change["id"]}";
                if (change["op"]!.GetValue<string>() == "deleted") Assert.True(replayed.Remove(key), $"{key} deleted before it was created");
                else
                {
                    var version = change["version"]!.GetValue<long>();
                    Assert.True(version == replayed.GetValueOrDefault(key) + 1, $"{key}: version {version} follows {replayed.GetValueOrDefault(key)} in the feed");
                    replayed[key] = version;
                }
            }
            after = page["next"]?.GetValue<long>();
        }
        return replayed;
    }

    /// <summary>
    /// Checks the service against a ledger: every acknowledged write is there with at least its version, and the
    /// change feed replays to exactly the current records and versions. Returns the current records.
    /// </summary>
    public static async Task<SortedDictionary<string, long>> AssertDurable(HttpClient client, IReadOnlyDictionary<string, long> acknowledged)
    {
        var current = await Current(client);
        var lost = acknowledged.Where(a => current.GetValueOrDefault(a.Key) < a.Value)
            .Select(a => $"{a.Key} v{a.Value} (found {(current.TryGetValue(a.Key, out var v) ? $"v{v}" : "nothing")})").ToList();
        Assert.True(lost.Count == 0, $"{lost.Count} acknowledged writes lost: {string.Join(", ", lost.Take(20))}");
        var replayed = await Replay(client);
        Assert.Equal(current, replayed);
        return current;
    }
}
