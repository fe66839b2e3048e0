using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using HubApi.Http;

namespace HubApi.Tests;

/// <summary>POST /v1/{resource}/batch: all or nothing, row-indexed errors, create and upsert, one feed row per record.</summary>
public sealed class BatchTests : WriteTest
{
    private Task<HttpResponseMessage> SendBatch(string resource, string body, string query = "", string contentType = "application/json",
        string? idempotencyKey = null, string key = AdminKey) =>
        Client.Send(HttpMethod.Post, $"/v1/{resource}/batch{query}", body, key, contentType: contentType, idempotencyKey: idempotencyKey);

    private static string Firms(string prefix, int count, int? bad = null) =>
        "[" + string.Join(",", Enumerable.Range(0, count).Select(i => i == bad
            ? """{"name":"","zone":"lingang"}"""
            : $$"""{"id":"{{prefix}}-{{i}}","name":"{{prefix}} firm {{i}}","zone":"lingang","industries":["integrated-circuits"]}""")) + "]";

    private long FeedRows()
    {
        _ = Client; // the service, and so its database, starts with its first client
        return Factory.Scalar<long>("select count(*) from changes");
    }

    [Theory]
    [InlineData(0)]
    [InlineData(2)]
    [InlineData(4)]
    public async Task ABadRowAtTheStartMiddleOrEndRefusesTheBatchAndWritesNothing(int bad)
    {
        var before = FeedRows();
        using var response = await SendBatch("firms", Firms("bad", 5, bad));
        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.AsObject();
        Assert.Equal([$"[{bad}].name"], errors.Select(e => e.Key));
        Assert.Equal(bad, problem["row"]!.GetValue<int>());
        for (var i = 0; i < 5; i++) await Client.Problem($"/v1/firms/bad-{i}", HttpStatusCode.NotFound);
        Assert.Equal(before, FeedRows());
    }

    [Fact]
    public async Task EveryBadRowIsNamedByIndexAndMember()
    {
        using var response = await SendBatch("firms", """[{"name":"Fine"},{"name":"X","zone":"nowhere"},{"name":"Y","colour":"red"}]""");
        var errors = (await response.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject();
        Assert.Equal(["[2].colour"], errors.Select(e => e.Key)); // rules that need no database come first, for every row
        using var references = await SendBatch("firms", """[{"name":"Fine"},{"name":"X","zone":"nowhere"}]""");
        var referenceErrors = (await references.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject();
        Assert.Equal(["[1].zone"], referenceErrors.Select(e => e.Key));
        await Client.Problem("/v1/firms/fine", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task AGoodNdjsonBatchOf50WritesEachRecordWithItsOwnFeedRowNamingTheKey()
    {
        var after = FeedRows();
        var lines = string.Join("\n", Enumerable.Range(0, 50).Select(i => $$"""{"name":"Batch service {{i}}","area":"daily-life"}""")) + "\n";
        using var response = await SendBatch("services", lines, contentType: HubApi.Http.Batch.NdjsonMediaType);
        var summary = await response.Expect(HttpStatusCode.OK);
        Assert.Equal(50, summary["created"]!.GetValue<int>());
        Assert.Equal(Enumerable.Range(0, 50), summary["items"]!.AsArray().Select(i => i!["index"]!.GetValue<int>()));

        var feed = await Client.Json($"/v1/changes?after={after}&limit=1000");
        var rows = feed["items"]!.AsArray();
        Assert.Equal(50, rows.Count);
        Assert.All(rows, r => Assert.Equal(("services", "created", 1L, "admin"),
            (r!["resource"]!.GetValue<string>(), r["op"]!.GetValue<string>(), r["version"]!.GetValue<long>(), r["by"]!.GetValue<string>())));
        var record = await Client.Json("/v1/services/batch-service-49");
        Assert.Equal("Batch service 49", record["name"]!.GetValue<string>());
    }

    [Fact]
    public async Task CreateModeRefusesAnExistingIdWith409NamingTheRow()
    {
        using var response = await SendBatch("firms", """[{"name":"New one"},{"id":"smic","name":"Another SMIC"}]""");
        var problem = await response.AssertProblem(HttpStatusCode.Conflict);
        Assert.Equal(1, problem["row"]!.GetValue<int>());
        Assert.Contains("smic", problem["detail"]!.GetValue<string>());
        await Client.Problem("/v1/firms/new-one", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task UpsertReplacesRecordsAndCreatesNewOnesAndAStaleVersionIs412NamingTheRow()
    {
        var cached = await Client.Json("/v1/zones/lingang"); // cached now: the batch must retire it
        using var stale = await SendBatch("zones", """[{"name":"Fresh zone"},{"id":"lingang","name":"Lingang","version":7}]""", "?mode=upsert");
        var problem = await stale.AssertProblem(HttpStatusCode.PreconditionFailed);
        Assert.Equal(1, problem["row"]!.GetValue<int>());
        await Client.Problem("/v1/zones/fresh-zone", HttpStatusCode.NotFound);

        var version = cached["version"]!.GetValue<long>();
        using var response = await SendBatch("zones",
            $$"""[{"name":"Fresh zone"},{"id":"lingang","name":"Lingang","district":"Pudong","industries":["integrated-circuits"],"version":{{version}}}]""", "?mode=upsert");
        var summary = await response.Expect(HttpStatusCode.OK);
        Assert.Equal((1, 1), (summary["created"]!.GetValue<int>(), summary["updated"]!.GetValue<int>()));
        var lingang = await Client.Json("/v1/zones/lingang");
        Assert.Equal(version + 1, lingang["version"]!.GetValue<long>());
        Assert.Equal("Pudong", lingang["district"]!.GetValue<string>());
        Assert.Empty(lingang["citations"]!.AsArray()); // replaced whole, as PUT does
        await Client.Json("/v1/zones/fresh-zone");
    }

    [Fact]
    public async Task AnIdempotencyKeyReplaysTheFirstAnswerAndRefusesAnotherBody()
    {
        using var first = await SendBatch("services", """[{"name":"Once only"}]""", idempotencyKey: "batch-1");
        var body = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        var rows = FeedRows();
        using var retry = await SendBatch("services", """[{"name":"Once only"}]""", idempotencyKey: "batch-1");
        Assert.Equal(HttpStatusCode.OK, retry.StatusCode);
        Assert.Equal(body, await retry.Content.ReadAsStringAsync());
        Assert.True(retry.Headers.Contains("Idempotent-Replayed"));
        Assert.Equal(rows, FeedRows());
        using var other = await SendBatch("services", """[{"name":"Something else"}]""", idempotencyKey: "batch-1");
        await other.AssertProblem(HttpStatusCode.UnprocessableEntity);
    }

    [Fact]
    public async Task BatchesOverTheRowLimitAre413AndOtherMistakesAreClear4xx()
    {
        var tooMany = "[" + string.Join(",", Enumerable.Repeat("""{"name":"x"}""", HubApi.Http.Batch.MaxRows + 1)) + "]";
        using var rows = await SendBatch("services", tooMany);
        await rows.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
        var tooBig = "[" + string.Join(",", Enumerable.Repeat($$"""{"name":"{{new string('x', 2000)}}"}""", 9_000)) + "]";
        using var bytes = await SendBatch("services", tooBig);
        await bytes.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
        using var media = await SendBatch("services", """[{"name":"x"}]""", contentType: "text/plain");
        await media.AssertProblem(HttpStatusCode.UnsupportedMediaType);
        using var mode = await SendBatch("services", """[{"name":"x"}]""", "?mode=merge");
        Assert.True((await mode.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("mode"));
        using var notArray = await SendBatch("services", """{"name":"x"}""");
        await notArray.AssertProblem(HttpStatusCode.BadRequest);
        using var empty = await SendBatch("services", "[]");
        await empty.AssertProblem(HttpStatusCode.BadRequest);
        using var ndjson = await SendBatch("services", "{\"name\":\"a\"}\nnot json\n", contentType: HubApi.Http.Batch.NdjsonMediaType);
        Assert.Equal(1, (await ndjson.AssertProblem(HttpStatusCode.BadRequest))["row"]!.GetValue<int>());
        using var anonymous = await Client.Send(HttpMethod.Post, "/v1/services/batch", """[{"name":"x"}]""");
        await anonymous.AssertProblem(HttpStatusCode.Unauthorized);
        await Client.Problem("/v1/services/x", HttpStatusCode.NotFound);
    }

    /// <summary>
    /// Upsert batches and single-record merge-patches race on the same records: every acknowledged write is one version,
    /// in order, with one feed row and one history entry each, and none is lost.
    /// </summary>
    [Fact]
    public async Task AnUpsertRaceWithSingleRecordWritesLosesNoWrite()
    {
        var ids = Enumerable.Range(0, 4).Select(i => $"race-{i}").ToList();
        (await SendBatch("services", "[" + string.Join(",", ids.Select(id => $$"""{"id":"{{id}}","name":"{{id}}"}""")) + "]")).EnsureSuccessStatusCode();
        var acknowledged = ids.ToDictionary(id => id, _ => 1);
        var gate = new object();

        async Task Batches(int worker)
        {
            for (var round = 0; round < 8; round++)
            {
                var body = "[" + string.Join(",", ids.Select(id => $$"""{"id":"{{id}}","name":"{{id}} b{{worker}}-{{round}}"}""")) + "]";
                using var response = await SendBatch("services", body, "?mode=upsert");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                lock (gate) foreach (var id in ids) acknowledged[id]++;
            }
        }

        async Task Patches(int worker)
        {
            for (var round = 0; round < 12; round++)
            {
                var id = ids[(worker + round) % ids.Count];
                using var response = await Patch($"/v1/services/{id}", $$"""{"figure":"p{{worker}}-{{round}}"}""", "*");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                lock (gate) acknowledged[id]++;
            }
        }

        await Task.WhenAll([Batches(0), Batches(1), Patches(0), Patches(1), Patches(2)]);
        foreach (var id in ids)
        {
            var record = await Client.Json($"/v1/services/{id}");
            Assert.Equal(acknowledged[id], record["version"]!.GetValue<long>());
            var history = await Client.Json($"/v1/services/{id}/history?limit=100&order=oldest");
            Assert.Equal(Enumerable.Range(1, acknowledged[id]).Select(v => (long)v),
                history["items"]!.AsArray().Select(e => e!["version"]!.GetValue<long>()));
            Assert.Equal(acknowledged[id], Factory.Scalar<long>("select count(*) from changes where resource = 'services' and record_id = @id", new { id }));
        }
    }

    [Fact]
    public async Task TenThousandRowsLoadInOneRequest()
    {
        var body = new StringBuilder();
        for (var i = 0; i < HubApi.Http.Batch.MaxRows; i++) body.Append($$"""{"id":"bulk-{{i}}","name":"Bulk firm {{i}}","zone":"lingang","industries":["integrated-circuits"]}""").Append('\n');
        using var response = await SendBatch("firms", body.ToString(), contentType: HubApi.Http.Batch.NdjsonMediaType);
        var summary = await response.Expect(HttpStatusCode.OK);
        Assert.Equal(HubApi.Http.Batch.MaxRows, summary["created"]!.GetValue<int>());
        Assert.Equal(HubApi.Http.Batch.MaxRows, Factory.Scalar<long>("select count(*) from changes where record_id like 'bulk-%'"));
        var last = await Client.Json("/v1/firms/bulk-9999");
        Assert.Equal(["integrated-circuits"], last["industries"]!.AsArray().Select(i => i!.GetValue<string>()));
    }
}
