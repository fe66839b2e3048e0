using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>
/// A test that needs a database other processes can share. test.sh runs it in the PostgreSQL run only (it carries
/// Trait Provider=Postgres); a plain `dotnet test` on SQLite skips it.
/// </summary>
public sealed class PostgresFactAttribute : FactAttribute
{
    public PostgresFactAttribute()
    {
        if (!TestDatabase.Postgres) Skip = "PostgreSQL only (HUBAPI_TEST_PROVIDER=Postgres)";
    }
}

/// <summary>
/// Two replicas on one PostgreSQL database, each with its response cache: a write through one is soon served by the
/// other (LISTEN/NOTIFY wakes it, the change feed says what changed), and a lost listener connection flushes the cache.
/// </summary>
[Trait("Provider", "Postgres")]
public sealed class ReplicaTests : IDisposable
{
    private const string AdminKey = "replica-admin-key-0123456789";
    private readonly HubApiFactory first;
    private readonly HubApiFactory second;
    private readonly HttpClient a;
    private readonly HttpClient b;

    public ReplicaTests()
    {
        first = new HubApiFactory { KeepDatabase = true }.With("Auth:AdminKey", AdminKey);
        second = new HubApiFactory(first.DatabasePath).With("Auth:AdminKey", AdminKey);
        a = first.CreateClient();
        b = second.CreateClient();
    }

    public void Dispose()
    {
        a.Dispose();
        b.Dispose();
        first.Dispose();
        second.Dispose();
    }

    /// <summary>Reads the URL from the replica until it satisfies the condition, for at most 10 s; returns how long that took.</summary>
    private static async Task<TimeSpan> Eventually(HttpClient client, string url, Func<JsonNode, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var body = await client.Json(url);
            if (condition(body)) return clock.Elapsed;
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"GET {url} still shows {body.ToJsonString()}");
            await Task.Delay(20);
        }
    }

    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task AWriteThroughOneReplicaReachesTheOthersCachedAnswers()
    {
        // The second replica caches the record, a list, and the record on the other side of a link.
        Assert.Equal("Lingang", (await b.Json("/v1/zones/lingang"))["name"]!.GetValue<string>());
        await b.Json("/v1/zones?sort=name");
        Assert.DoesNotContain("lingang", (await b.Json("/v1/industries/biomedicine"))["zones"]!.AsArray().Select(z => z!.GetValue<string>()));

        using (var patched = await a.Send(HttpMethod.Patch, "/v1/zones/lingang", """{"name":"Lingang Special Area","industries":["biomedicine"]}""",
                   AdminKey, "*", Writes.MergePatch))
            await patched.Expect(HttpStatusCode.OK);

        var took = await Eventually(b, "/v1/zones/lingang", r => r["name"]!.GetValue<string>() == "Lingang Special Area");
        Assert.True(took < TimeSpan.FromSeconds(3), $"took {took}");
        await Eventually(b, "/v1/zones?sort=name", r => r["items"]!.AsArray().Any(z => z!["name"]!.GetValue<string>() == "Lingang Special Area"));
        await Eventually(b, "/v1/industries/biomedicine", r => r["zones"]!.AsArray().Any(z => z!.GetValue<string>() == "lingang"));
        await Eventually(b, "/v1/industries/integrated-circuits", r => r["zones"]!.AsArray().All(z => z!.GetValue<string>() != "lingang"));

        // Its own writes it announces once, at its commit: its answer stays its record's next GET.
        using var own = await b.Send(HttpMethod.Patch, "/v1/zones/west-bund", """{"district":"Xuhui"}""", AdminKey, "*", Writes.MergePatch);
        var answer = await own.Content.ReadAsStringAsync();
        second.Execute("update zones set name = 'Renamed behind its back' where id = 'west-bund'");
        await Task.Delay(300);
        Assert.Equal(answer, await b.GetStringAsync("/v1/zones/west-bund"));
    }

    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task ALostListenerConnectionFlushesTheCache()
    {
        Assert.Equal("Zhangjiang", (await b.Json("/v1/zones/zhangjiang"))["name"]!.GetValue<string>());
        // A change made behind every replica's back: no feed row, no notification, so the cached answer stays.
        second.Execute("update zones set name = 'Renamed behind its back' where id = 'zhangjiang'");
        await Task.Delay(300);
        Assert.Equal("Zhangjiang", (await b.Json("/v1/zones/zhangjiang"))["name"]!.GetValue<string>());

        // The listeners' connections break; reconnecting, a replica cannot know what it missed and forgets everything.
        var ended = second.Scalar<long>("""
            select count(pg_terminate_backend(pid)) from pg_stat_activity
            where datname = current_database() and pid <> pg_backend_pid()
              and (query like 'listen %' or query like 'select seq, resource, record_id from changes%' or query like 'select coalesce(max(seq), 0)%')
            """);
        Assert.Equal(2, ended);
        await Eventually(b, "/v1/zones/zhangjiang", r => r["name"]!.GetValue<string>() == "Renamed behind its back");
    }
}
