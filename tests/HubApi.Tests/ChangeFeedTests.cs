using System.Net;
using System.Text.Json.Nodes;
using HubApi.Http;

namespace HubApi.Tests;

public sealed class ChangeFeedTests : WriteTest
{
    private const int Seeded = 27;

    [Fact]
    public async Task TheFeedStartsWithTheSeededRecords()
    {
        var page = await Client.Json("/v1/changes?limit=1000");
        var items = page["items"]!.AsArray();
        Assert.Equal(Seeded, items.Count);
        Assert.Null(page["next"]);
        Assert.All(items, i =>
        {
            Assert.Equal("created", i!["op"]!.GetValue<string>());
            Assert.Equal(1, i["version"]!.GetValue<long>());
            Assert.EndsWith("Z", i["at"]!.GetValue<string>());
        });
        var seqs = items.Select(i => i!["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.Order(), seqs);
        Assert.Equal(seqs.Count, seqs.Distinct().Count());
    }

    [Fact]
    public async Task PagesFollowNextToTheEnd()
    {
        var all = (await Client.Json("/v1/changes?limit=1000"))["items"]!.AsArray().Select(i => i!.ToJsonString()).ToList();
        var seen = new List<string>();
        long? after = 0;
        while (after is not null)
        {
            using var response = await Client.GetAsync($"/v1/changes?after={after}&limit=5");
            var page = await response.Expect(HttpStatusCode.OK);
            seen.AddRange(page["items"]!.AsArray().Select(i => i!.ToJsonString()));
            after = page["next"]?.GetValue<long>();
            if (after is { } next)
                Assert.Equal($"<http://localhost/v1/changes?limit=5&after={next}>; rel=\"next\"", response.Headers.GetValues("Link").Single());
            else Assert.False(response.Headers.Contains("Link"));
        }
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task EachWriteAppendsOneChangeWithTheNewVersion()
    {
        (await Post("/v1/services", """{"name":"Feed test"}""")).EnsureSuccessStatusCode();
        (await Patch("/v1/services/feed-test", """{"figure":"1"}""", "*")).EnsureSuccessStatusCode();
        (await Put("/v1/services/feed-test", """{"name":"Feed test","area":"economy"}""", "*")).EnsureSuccessStatusCode();
        (await Delete("/v1/services/feed-test", "*")).EnsureSuccessStatusCode();
        // Refused writes leave no trace.
        (await Post("/v1/services", """{"name":"Feed test"}""")).Dispose();
        (await Delete("/v1/zones/lingang", "*")).Dispose();

        var items = (await Client.Json($"/v1/changes?after={Seeded}"))["items"]!.AsArray();
        Assert.Equal(
            ["services feed-test created 1", "services feed-test updated 2", "services feed-test updated 3", "services feed-test deleted 4"],
            items.Select(i => $"{i!["resource"]} {i["id"]} {i["op"]} {i["version"]}"));
        Assert.Equal(Seeded + 1, items[0]!["seq"]!.GetValue<long>());
    }

    [Fact]
    public async Task TheResourceFilterNarrowsTheFeed()
    {
        var page = await Client.Json("/v1/changes?resource=zones,firms&limit=1000");
        Assert.Equal(["firms", "zones"], page["items"]!.AsArray().Select(i => i!["resource"]!.GetValue<string>()).Distinct().Order());
        Assert.Equal(4, page["items"]!.AsArray().Count);
    }

    [Theory]
    [InlineData("after=-1")]
    [InlineData("after=abc")]
    [InlineData("after=")]
    [InlineData("after=1.5")]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=x")]
    [InlineData("resource=nope")]
    [InlineData("resource=")]
    [InlineData("resource=firms,")]
    [InlineData("colour=red")]
    [InlineData("after=1&after=2")]
    public async Task BadParametersAre400Problems(string query)
    {
        var problem = await Client.Problem("/v1/changes?" + query, HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem["errors"]!.AsObject());
    }

    [Fact]
    public async Task ReplayingTheFeedFromTheStartRebuildsTheCurrentRecordsAndVersions()
    {
        var random = new Random(20260101);
        var live = new Dictionary<string, List<string>>();
        foreach (var resource in Catalog.Resources.All)
            live[resource.Name] = [.. (await Client.Json($"/v1/{resource.Name}?limit=100&fields=id")).Ids()];
        string? Pick(string resource) => live[resource].Count == 0 || random.Next(4) == 0 ? null : live[resource][random.Next(live[resource].Count)];
        var outcomes = new Dictionary<string, int>();

        for (var i = 0; i < 80; i++)
        {
            var resource = Catalog.Resources.All[random.Next(Catalog.Resources.All.Count)].Name;
            var roll = random.Next(10);
            HttpStatusCode status;
            if (roll < 4 || live[resource].Count == 0)
            {
                var id = $"r{i}";
                using var response = await Post($"/v1/{resource}", NewRecord(resource, id, Pick).ToJsonString());
                status = response.StatusCode;
                live[resource].Add(id);
            }
            else
            {
                var id = live[resource][random.Next(live[resource].Count)];
                var url = $"/v1/{resource}/{id}";
                var etag = await Client.ETag(url);
                HttpResponseMessage response;
                if (roll < 7) response = await Patch(url, $$"""{"description":"Change {{i}}"}""", etag);
                else if (roll < 8) response = await Put(url, NewRecord(resource, id, Pick).ToJsonString(), etag);
                else response = await Delete(url, etag);
                status = response.StatusCode;
                if (status == HttpStatusCode.NoContent) live[resource].Remove(id);
                response.Dispose();
            }
            Assert.True(status is HttpStatusCode.Created or HttpStatusCode.OK or HttpStatusCode.NoContent or HttpStatusCode.Conflict, $"step {i}: {status}");
            outcomes[$"{status}"] = outcomes.GetValueOrDefault($"{status}") + 1;
        }
        Assert.True(outcomes.Count == 4, string.Join(", ", outcomes)); // creates, updates, deletes and refused deletes all happened

        // Small pages, so the replay and the listing both page.
        var replayed = await WriteLoad.Replay(Client, pageSize: 50);
        var current = await WriteLoad.Current(Client, pageSize: 20);
        Assert.Equal(current, replayed);
    }

    /// <summary>A valid record of any resource, linked at random to records that exist.</summary>
    private static JsonObject NewRecord(string resource, string id, Func<string, string?> pick)
    {
        var record = new JsonObject { ["id"] = id, ["name"] = $"Record {id}" };
        switch (resource)
        {
            case "industries":
                record["strategic"] = id.Length % 2 == 0;
                record["zones"] = Links(pick("zones"));
                break;
            case "zones":
                record["industries"] = Links(pick("industries"));
                break;
            case "firms":
                record["zone"] = pick("zones");
                record["industries"] = Links(pick("industries"));
                break;
            case "targets":
                record["deadline"] = 2030;
                record["industry"] = pick("industries");
                break;
            case "projects":
                record["firm"] = pick("firms");
                record["zone"] = pick("zones");
                break;
            case "facilities" or "indicators":
                record["zone"] = pick("zones");
                break;
        }
        if (resource != "sources" && pick("sources") is { } source)
            record["citations"] = new JsonArray(new JsonObject { ["source"] = source, ["quote"] = "A quote." });
        return record;
    }

    private static JsonArray Links(string? id) => id is null ? [] : [id];

    [Fact]
    public async Task TheStreamSendsEventsAndResumesFromLastEventId()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        using (var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/changes/stream?after={Seeded - 2}"))
        using (var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token))
        {
            Assert.Equal("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
            var seeded = await ReadEvents(reader, 2, timeout.Token);
            Assert.Equal([$"{Seeded - 1}", $"{Seeded}"], seeded.Select(e => e.Id));
            Assert.All(seeded, e => Assert.Equal("created", e.Event));

            // A write while the client listens arrives as the next event.
            (await Post("/v1/services", """{"name":"Streamed"}""")).EnsureSuccessStatusCode();
            var live = Assert.Single(await ReadEvents(reader, 1, timeout.Token));
            Assert.Equal($"{Seeded + 1}", live.Id);
            Assert.Equal("created", live.Event);
            Assert.Equal("streamed", live.Data["id"]!.GetValue<string>());
            Assert.Equal("services", live.Data["resource"]!.GetValue<string>());
            Assert.Equal(Seeded + 1, live.Data["seq"]!.GetValue<long>());
        }

        (await Patch("/v1/services/streamed", """{"figure":"2"}""", "*")).EnsureSuccessStatusCode();
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/v1/changes/stream?after=0"))
        {
            request.Headers.Add("Last-Event-ID", $"{Seeded + 1}");
            using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(timeout.Token));
            var resumed = Assert.Single(await ReadEvents(reader, 1, timeout.Token));
            Assert.Equal($"{Seeded + 2}", resumed.Id);
            Assert.Equal("updated", resumed.Event);
            Assert.Equal(2, resumed.Data["version"]!.GetValue<long>());
        }
    }

    [Fact]
    public async Task TheStreamRefusesABadLastEventId()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/changes/stream");
        request.Headers.Add("Last-Event-ID", "yesterday");
        using var response = await Client.SendAsync(request);
        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("Last-Event-ID"));
        await Client.Problem("/v1/changes/stream?limit=5", HttpStatusCode.BadRequest);
    }

    private static async Task<List<(string Id, string Event, JsonNode Data)>> ReadEvents(StreamReader reader, int count, CancellationToken cancellation)
    {
        var events = new List<(string, string, JsonNode)>();
        string? id = null, type = null, data = null;
        while (events.Count < count)
        {
            var line = await reader.ReadLineAsync(cancellation) ?? throw new EndOfStreamException();
            if (line.Length == 0)
            {
                if (data is not null) events.Add((id!, type!, JsonNode.Parse(data)!));
                id = type = data = null;
            }
            else if (line.StartsWith("id: ")) id = line[4..];
            else if (line.StartsWith("event: ")) type = line[7..];
            else if (line.StartsWith("data: ")) data = line[6..];
        }
        return events;
    }
}
