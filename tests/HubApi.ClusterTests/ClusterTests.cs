using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace HubApi.ClusterTests;

/// <summary>
/// Two replicas behind nginx on one PostgreSQL primary with a synchronous standby, as deploy/cluster.sh runs them:
/// what one replica writes, the other serves within a second; races between replicas resolve as on one; nothing
/// acknowledged is lost when a replica is killed, the database restarts or the standby is promoted.
/// The tests share one cluster and run in order: the ones that break something come last.
/// </summary>
[Trait("Provider", "Cluster")]
[TestCaseOrderer("HubApi.ClusterTests.ByOrder", "HubApi.ClusterTests")]
public sealed partial class ClusterTests : IClassFixture<Cluster>
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(1);
    private readonly Cluster cluster;
    private readonly ITestOutputHelper output;

    public ClusterTests(Cluster cluster, ITestOutputHelper output)
    {
        this.cluster = cluster;
        this.output = output;
        if (Cluster.Enabled) cluster.EnsureReplicasAsync().GetAwaiter().GetResult();
    }

    private static string Tag() => "t" + Guid.NewGuid().ToString("N")[..10];

    private static string IdOf(JsonNode? record) => record!["id"]!.GetValue<string>();

    [ClusterFact, Order(1)]
    public async Task BehindNginxEachClientAddressHasItsOwnBudgetAndForgedHeadersAreIgnored()
    {
        // 127.0.0.2 spends its budget on both replicas through nginx.
        using var first = cluster.From("127.0.0.2", cluster.NginxPort);
        int served = 0, refusedInARow = 0;
        for (var i = 0; i < 200 && refusedInARow < 4; i++)
        {
            using var response = await first.GetAsync("/v1/zones/lingang");
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"answered {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.OK) { served++; refusedInARow = 0; } else refusedInARow++;
        }
        Assert.Equal(4, refusedInARow);
        Assert.InRange(served, Cluster.AnonymousPermitsPerMinute, 2 * Cluster.AnonymousPermitsPerMinute);

        // A forged X-Forwarded-For: nginx appends the address it saw, and the replica believes only that entry.
        using (var forged = new HttpRequestMessage(HttpMethod.Get, "/v1/zones/lingang"))
        {
            forged.Headers.Add("X-Forwarded-For", "198.51.100.7");
            Assert.Equal(HttpStatusCode.TooManyRequests, (await first.SendAsync(forged)).StatusCode);
        }
        // Another client behind the same nginx has a budget of its own.
        using var second = cluster.From("127.0.0.3", cluster.NginxPort);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/v1/zones/lingang")).StatusCode);

        // Straight to a replica from an address that is not a known proxy, the header is ignored ...
        using var direct = cluster.From("127.0.0.2", cluster.ReplicaPort(1));
        using (var spoofed = new HttpRequestMessage(HttpMethod.Get, "/v1/zones/lingang"))
        {
            spoofed.Headers.Add("X-Forwarded-For", "198.51.100.8");
            Assert.Equal(HttpStatusCode.TooManyRequests, (await direct.SendAsync(spoofed)).StatusCode);
        }
        // ... and from the known proxy's address (nginx's, 127.0.0.1) it names the client.
        using var proxy = cluster.From("127.0.0.1", cluster.ReplicaPort(1));
        using var named = new HttpRequestMessage(HttpMethod.Get, "/v1/zones?limit=1");
        named.Headers.Add("X-Forwarded-For", "198.51.100.9");
        named.Headers.Add("X-Forwarded-Proto", "https");
        using var answer = await proxy.SendAsync(named);
        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        Assert.StartsWith("<https://", answer.Headers.GetValues("Link").Single());
    }

    [ClusterFact, Order(2)]
    public async Task AWriteThroughOneReplicaIsServedByTheOtherWithinASecond()
    {
        var (a, b) = (cluster.A, cluster.B);
        var tag = Tag();
        var url = "/v1/firms/" + IdOf(await (await a.Post("/v1/firms", $$"""{"name":"Firm {{tag}}","zone":"lingang"}""")).Expect(HttpStatusCode.Created));
        const string list = "/v1/firms?zone=lingang&sort=name&limit=100";
        const string facets = "/v1/firms/facets?by=zone";
        static long Lingang(JsonNode f) => f["zone"]!.AsArray().Where(v => v!["value"]!.GetValue<string>() == "lingang").Select(v => v!["count"]!.GetValue<long>()).SingleOrDefault();

        var took = new Dictionary<string, List<double>> { ["record"] = [], ["304"] = [], ["list"] = [], ["search"] = [], ["facets"] = [] };
        for (var round = 1; round <= 10; round++)
        {
            var word = $"{tag}r{round}";
            var zone = round % 2 == 1 ? "zhangjiang" : "lingang";
            // B answers each of these from its cache from now on.
            var etag = await b.ETag(url);
            using (var revalidated = await b.Send(HttpMethod.Get, url, ifNoneMatch: etag)) Assert.Equal(HttpStatusCode.NotModified, revalidated.StatusCode);
            await b.Json(list);
            Assert.Empty((await b.Json($"/v1/firms?q={word}"))["items"]!.AsArray());
            var lingang = Lingang(await b.Json(facets));

            using (var patched = await a.Patch(url, $$"""{"name":"Firm {{word}}","zone":"{{zone}}"}""", etag)) await patched.Expect(HttpStatusCode.OK);

            var name = "Firm " + word;
            async Task Watch(string view, Func<Task<bool>> shows) => took[view].Add((await Http.Eventually(shows, Bound, $"round {round}: {view} on B")).TotalMilliseconds);
            await Task.WhenAll(
                Watch("record", async () => (await b.Json(url))["name"]!.GetValue<string>() == name),
                Watch("304", async () =>
                {
                    using var response = await b.Send(HttpMethod.Get, url, ifNoneMatch: etag);
                    return response.StatusCode == HttpStatusCode.OK;
                }),
                Watch("list", async () =>
                {
                    var items = (await b.Json(list))["items"]!.AsArray();
                    return zone == "lingang" ? items.Any(i => i!["name"]!.GetValue<string>() == name) : items.All(i => "/v1/firms/" + IdOf(i) != url);
                }),
                Watch("search", async () => (await b.Json($"/v1/firms?q={word}"))["items"]!.AsArray().Any(i => "/v1/firms/" + IdOf(i) == url)),
                Watch("facets", async () => Lingang(await b.Json(facets)) == lingang + (zone == "lingang" ? 1 : -1)));
        }
        foreach (var (view, ms) in took)
        {
            ms.Sort();
            output.WriteLine($"{view}: a write on A served by B after {ms[ms.Count / 2]:F0} ms (median of {ms.Count}), {ms[^1]:F0} ms at most");
        }
    }

    [ClusterFact, Order(3)]
    public async Task TheSameIfMatchRacedOnBothReplicasGivesOne200AndOne412()
    {
        using var created = await cluster.A.Post("/v1/services", $$"""{"name":"Race {{Tag()}}"}""");
        var url = "/v1/services/" + IdOf(await created.Expect(HttpStatusCode.Created));
        var etag = created.Headers.ETag!.Tag;
        for (var round = 1; round <= 100; round++)
        {
            var responses = await Task.WhenAll(
                cluster.A.Patch(url, $$"""{"figure":"A {{round}}"}""", etag),
                cluster.B.Patch(url, $$"""{"figure":"B {{round}}"}""", etag));
            try
            {
                var statuses = responses.Select(r => (int)r.StatusCode).Order().ToArray();
                Assert.True(statuses is [200, 412], $"round {round}: {string.Join(", ", statuses)}");
                etag = responses.Single(r => r.StatusCode == HttpStatusCode.OK).Headers.ETag!.Tag;
            }
            finally
            {
                foreach (var response in responses) response.Dispose();
            }
        }
        Assert.Equal(101, (await cluster.Nginx.Json(url))["version"]!.GetValue<long>());
    }

    [ClusterFact, Order(4)]
    public async Task TheSameIdempotencyKeySentToBothReplicasMakesOneRecord()
    {
        var tag = Tag();
        var after = await cluster.A.LastSeq();
        for (var round = 1; round <= 20; round++)
        {
            var key = Guid.NewGuid().ToString();
            var body = $$"""{"name":"Once {{tag}} {{round}}"}""";
            var responses = await Task.WhenAll(cluster.A.Post("/v1/services", body, key), cluster.B.Post("/v1/services", body, key));
            var answers = new List<string>();
            foreach (var response in responses)
            {
                using (response)
                {
                    await response.Expect(HttpStatusCode.Created);
                    answers.Add(response.Headers.Location + " " + await response.Content.ReadAsStringAsync());
                }
            }
            Assert.Equal(answers[0], answers[1]);
        }
        Assert.Equal(20, cluster.Scalar<long>($"select count(*) from services where name like 'Once {tag} %'"));
        var created = (await cluster.B.Changes(after)).Where(c => c.Op == "created").GroupBy(c => c.Id).ToList();
        Assert.Equal(20, created.Count);
        Assert.All(created, c => Assert.Single(c));
    }
}
