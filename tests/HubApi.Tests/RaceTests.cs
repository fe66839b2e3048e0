using System.Net;

namespace HubApi.Tests;

/// <summary>
/// Writes that race for the same thing, as concurrent writers on PostgreSQL can: each race has one outcome a client can
/// act on, never a 500 and never a half-done write. On SQLite the writes take turns, and the outcomes are the same.
/// </summary>
public sealed class RaceTests : WriteTest
{
    private async Task<HttpResponseMessage[]> Together(int count, Func<int, Task<HttpResponseMessage>> send)
    {
        _ = Client; // started once, before the requests race
        return await Task.WhenAll(Enumerable.Range(0, count).Select(i => Task.Run(() => send(i))));
    }

    [Fact]
    public async Task TwoCreatesOfTheSameIdMakeOneRecordAndOneConflict()
    {
        for (var round = 0; round < 6; round++)
        {
            var responses = await Together(2, i => Post("/v1/services", $$"""{"id":"raced-{{round}}","name":"Raced {{round}}.{{i}}"}"""));
            Assert.Equal([HttpStatusCode.Created, HttpStatusCode.Conflict], responses.Select(r => r.StatusCode).Order());
            var problem = await responses.Single(r => r.StatusCode == HttpStatusCode.Conflict).AssertProblem(HttpStatusCode.Conflict);
            Assert.Contains("already", problem["detail"]!.GetValue<string>());
            foreach (var response in responses) response.Dispose();
        }
        var feed = (await Client.Json("/v1/changes?resource=services&limit=1000"))["items"]!.AsArray();
        Assert.Equal(6, feed.Count(c => c!["id"]!.GetValue<string>().StartsWith("raced-")));
    }

    [Fact]
    public async Task TheSameIdempotencyKeySentTogetherCreatesOneRecord()
    {
        for (var round = 0; round < 6; round++)
        {
            var responses = await Together(3, _ => Post("/v1/services", $$"""{"name":"Once {{round}}"}""", idempotencyKey: $"together-{round}"));
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Created, r.StatusCode));
            var bodies = await Task.WhenAll(responses.Select(r => r.Content.ReadAsStringAsync()));
            Assert.Single(bodies.Distinct());
            Assert.Equal(2, responses.Count(r => r.Headers.Contains("Idempotent-Replayed")));
            foreach (var response in responses) response.Dispose();
        }
        var feed = (await Client.Json("/v1/changes?resource=services&limit=1000"))["items"]!.AsArray();
        Assert.Equal(6, feed.Count(c => c!["id"]!.GetValue<string>().StartsWith("once-")));
    }

    [Fact]
    public async Task ADeleteRacingACreateThatRefersToItNeverLeavesADanglingReference()
    {
        for (var round = 0; round < 6; round++)
        {
            var zone = $"contested-{round}";
            (await Post("/v1/zones", $$"""{"id":"{{zone}}","name":"Contested {{round}}"}""")).EnsureSuccessStatusCode();
            var responses = await Together(2, i => i == 0
                ? Delete($"/v1/zones/{zone}", "*")
                : Post("/v1/facilities", $$"""{"id":"on-{{zone}}","name":"On {{zone}}","zone":"{{zone}}"}"""));
            var (deleted, created) = (responses[0].StatusCode, responses[1].StatusCode);
            // Either the delete went first (the create finds no zone: 400), or the create did (the delete is refused: 409).
            Assert.True((deleted, created) is (HttpStatusCode.NoContent, HttpStatusCode.BadRequest) or (HttpStatusCode.Conflict, HttpStatusCode.Created),
                $"delete {(int)deleted}, create {(int)created}");
            foreach (var response in responses) response.Dispose();
        }
    }

    [Fact]
    public async Task APollerResumingAfterTheLastSeqItSawNeverSkipsAChange()
    {
        // Writers commit concurrently; a poller that always resumes after the last seq it saw must still see every row.
        var writing = Together(8, async w =>
        {
            for (var i = 0; i < 20; i++) (await Post("/v1/services", $$"""{"id":"polled-{{w}}-{{i}}","name":"Polled {{w}} {{i}}"}""")).Dispose();
            return new HttpResponseMessage(HttpStatusCode.OK);
        });
        var seen = new List<long>();
        long after = 0;
        async Task Poll()
        {
            var items = (await Client.Json($"/v1/changes?after={after}&limit=1000"))["items"]!.AsArray();
            seen.AddRange(items.Select(i => i!["seq"]!.GetValue<long>()));
            if (seen.Count > 0) after = seen[^1];
        }
        while (!writing.IsCompleted) await Poll();
        await writing;
        await Poll();
        var all = (await Client.Json("/v1/changes?limit=1000"))["items"]!.AsArray().Select(i => i!["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(27 + 160, all.Count);
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task ManyWritersToOneRecordLoseNoUpdate()
    {
        const string url = "/v1/targets/intelligent-factories";
        var before = (await Client.Json(url))["version"]!.GetValue<long>();
        var responses = await Together(24, i => Patch(url, $$"""{"unit":"factories {{i}}"}""", "*"));
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.StatusCode));
        Assert.Equal(before + 24, (await Client.Json(url))["version"]!.GetValue<long>());
        var versions = (await Client.Json($"/v1/changes?resource=targets&limit=1000"))["items"]!.AsArray()
            .Where(c => c!["id"]!.GetValue<string>() == "intelligent-factories").Select(c => c!["version"]!.GetValue<long>()).ToList();
        Assert.Equal(Enumerable.Range(1, (int)before + 24).Select(v => (long)v), versions);
        foreach (var response in responses) response.Dispose();
    }
}
