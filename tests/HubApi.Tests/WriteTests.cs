using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using HubApi.Http;

namespace HubApi.Tests;

public sealed class WriteTests : WriteTest
{
    private const string Cite = """[{"source":"shanghai-digital-hub","quote":"A supporting quote."}]""";

    /// <summary>A valid new record of each resource, its relations pointing at seeded records.</summary>
    public static readonly TheoryData<string, string, string> NewRecords = new()
    {
        { "sources", """{"name":"Another article","author":"A. Writer","section":"Tech","text":"Some text."}""", "another-article" },
        { "zones", $$"""{"name":"Minhang Zone","district":"Minhang","industries":["integrated-circuits"],"citations":{{Cite}}}""", "minhang-zone" },
        { "industries", $$"""{"name":"Quantum computing","strategic":false,"zones":["zhangjiang"],"citations":{{Cite}}}""", "quantum-computing" },
        { "firms", $$"""{"name":"Acme Chips Ltd.","zone":"lingang","industries":["integrated-circuits"],"citations":{{Cite}}}""", "acme-chips-ltd" },
        { "targets", $$"""{"name":"1,000 robots","value":1000,"unit":"robots","deadline":2030,"industry":"artificial-intelligence","citations":{{Cite}}}""", "1-000-robots" },
        { "projects", $$"""{"name":"A new fab","firm":"smic","zone":"lingang","investmentUsd":1.5e9,"citations":{{Cite}}}""", "a-new-fab" },
        { "facilities", $$"""{"name":"Test lab","zone":"zhangjiang","kind":"lab","citations":{{Cite}}}""", "test-lab" },
        { "services", $$"""{"name":"Parking finder","area":"daily-life","figure":"1 million users","citations":{{Cite}}}""", "parking-finder" },
        { "indicators", $$"""{"name":"Test figure","value":12,"unit":"things","zone":"zhangjiang","citations":{{Cite}}}""", "test-figure" },
    };

    [Theory]
    [MemberData(nameof(NewRecords))]
    public async Task CreateReturns201WithLocationETagAndTheRecordAsGetRendersIt(string resource, string body, string id)
    {
        using var created = await Post($"/v1/{resource}", body);
        var record = await created.Expect(HttpStatusCode.Created);
        Assert.Equal($"/v1/{resource}/{id}", created.Headers.Location!.OriginalString);
        Assert.Equal(id, record["id"]!.GetValue<string>());
        Assert.Equal(1, record["version"]!.GetValue<long>());
        Assert.Equal(record["createdAt"]!.GetValue<string>(), record["updatedAt"]!.GetValue<string>());
        foreach (var (name, value) in JsonNode.Parse(body)!.AsObject())
            Assert.True(JsonNode.DeepEquals(value, record[name]), $"{name}: sent {value?.ToJsonString()}, got {record[name]?.ToJsonString()}");

        using var read = await Client.GetAsync(created.Headers.Location);
        Assert.Equal(await created.Content.ReadAsStringAsync(), await read.Content.ReadAsStringAsync());
        Assert.Equal(created.Headers.ETag, read.Headers.ETag);
    }

    [Fact]
    public async Task CreateWithExistingIdIs409()
    {
        using var response = await Post("/v1/firms", """{"id":"smic","name":"Another SMIC"}""");
        var problem = await response.AssertProblem(HttpStatusCode.Conflict);
        Assert.Contains("smic", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task IdsOfDeletedRecordsAreNeverReused()
    {
        using var created = await Post("/v1/services", """{"name":"Short-lived"}""");
        var etag = created.Headers.ETag!.Tag;
        (await Delete("/v1/services/short-lived", etag)).EnsureSuccessStatusCode();
        using var again = await Post("/v1/services", """{"name":"Short-lived"}""");
        var problem = await again.AssertProblem(HttpStatusCode.Conflict);
        Assert.Contains("never reused", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("firms", """{}""", "name")]
    [InlineData("firms", """{"name":""}""", "name")]
    [InlineData("firms", """{"name":42}""", "name")]
    [InlineData("firms", """{"name":"X","id":"Bad Id"}""", "id")]
    [InlineData("firms", """{"name":"!!!"}""", "id")]
    [InlineData("firms", """{"name":"X","zone":"nowhere"}""", "zone")]
    [InlineData("firms", """{"name":"X","zone":7}""", "zone")]
    [InlineData("firms", """{"name":"X","industries":"integrated-circuits"}""", "industries")]
    [InlineData("firms", """{"name":"X","industries":["integrated-circuits","nope"]}""", "industries[1]")]
    [InlineData("firms", """{"name":"X","industries":["media","media"]}""", "industries[1]")]
    [InlineData("firms", """{"name":"X","version":2}""", "version")]
    [InlineData("firms", """{"name":"X","createdAt":"2026-01-01T00:00:00.000Z"}""", "createdAt")]
    [InlineData("firms", """{"name":"X","updatedAt":null}""", "updatedAt")]
    [InlineData("firms", """{"name":"X","colour":"red"}""", "colour")]
    [InlineData("firms", """{"name":"X","citations":[{"source":"nope","quote":"q"}]}""", "citations[0].source")]
    [InlineData("firms", """{"name":"X","citations":[{"source":"shanghai-digital-hub","quote":" "}]}""", "citations[0].quote")]
    [InlineData("firms", """{"name":"X","citations":[{"source":"shanghai-digital-hub","quote":"q","page":3}]}""", "citations[0].page")]
    [InlineData("firms", """{"name":"X","citations":["shanghai-digital-hub"]}""", "citations[0]")]
    [InlineData("targets", """{"name":"X"}""", "deadline")]
    [InlineData("targets", """{"name":"X","deadline":"2030"}""", "deadline")]
    [InlineData("targets", """{"name":"X","deadline":2030.5}""", "deadline")]
    [InlineData("targets", """{"name":"X","deadline":1800}""", "deadline")]
    [InlineData("targets", """{"name":"X","deadline":2030,"value":-1}""", "value")]
    [InlineData("targets", """{"name":"X","deadline":2030,"value":"many"}""", "value")]
    [InlineData("industries", """{"name":"X"}""", "strategic")]
    [InlineData("industries", """{"name":"X","strategic":"yes"}""", "strategic")]
    [InlineData("services", """{"name":"X","area":"space"}""", "area")]
    [InlineData("zones", """{"name":"X","district":5}""", "district")]
    [InlineData("sources", """{"name":"X","text":false}""", "text")]
    public async Task InvalidBodyIs400NamingTheField(string resource, string body, string field)
    {
        using var response = await Post($"/v1/{resource}", body);
        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(field), $"expected an error for '{field}', got {errors.ToJsonString()}");
    }

    [Fact]
    public async Task TooLongValuesAre400()
    {
        var body = new JsonObject { ["name"] = "X", ["district"] = new string('d', 101), ["description"] = new string('d', 2001) };
        using var response = await Post("/v1/zones", body.ToJsonString());
        var errors = (await response.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject();
        Assert.True(errors.ContainsKey("district"));
        Assert.True(errors.ContainsKey("description"));
    }

    [Fact]
    public async Task ANewSourceMayCiteItself()
    {
        using var response = await Post("/v1/sources",
            """{"id":"report","name":"A report","text":"It says so.","citations":[{"source":"report","quote":"It says so."}]}""");
        var record = await response.Expect(HttpStatusCode.Created);
        Assert.Equal("report", record["citations"]![0]!["source"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("[1, 2]")]
    [InlineData("null")]
    [InlineData("\"firm\"")]
    [InlineData("""{"name":"A","name":"B"}""")]
    public async Task MalformedBodyIs400Problem(string body)
    {
        using var response = await Post("/v1/firms", body);
        await response.AssertProblem(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData("POST", "/v1/firms", "text/plain")]
    [InlineData("POST", "/v1/firms", "application/xml")]
    [InlineData("POST", "/v1/firms", "")]
    [InlineData("POST", "/v1/firms", "application/json; charset=latin1")]
    [InlineData("POST", "/v1/firms", "application/merge-patch+json")]
    [InlineData("PUT", "/v1/firms/smic", "text/plain")]
    [InlineData("PATCH", "/v1/firms/smic", "application/json")]
    [InlineData("PATCH", "/v1/firms/smic", "text/plain")]
    public async Task WrongContentTypeIs415Problem(string method, string url, string contentType)
    {
        using var response = await Client.Send(new HttpMethod(method), url, """{"name":"X"}""", AdminKey, "*", contentType);
        await response.AssertProblem(HttpStatusCode.UnsupportedMediaType);
        if (method == "PATCH") Assert.Equal(Writes.MergePatch, response.Headers.GetValues("Accept-Patch").Single());
    }

    [Theory]
    [InlineData("POST", "/v1/sources")]
    [InlineData("PUT", "/v1/sources/shanghai-digital-hub")]
    [InlineData("PATCH", "/v1/sources/shanghai-digital-hub")]
    public async Task BodyOver64KiBIs413Problem(string method, string url)
    {
        var body = new JsonObject { ["name"] = "Big", ["text"] = new string('x', 64 * 1024) }.ToJsonString();
        var type = method == "PATCH" ? Writes.MergePatch : "application/json";
        using var response = await Client.Send(new HttpMethod(method), url, body, AdminKey, "*", type);
        await response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task ChunkedBodyOver64KiBIs413Problem()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/sources");
        var bytes = System.Text.Encoding.UTF8.GetBytes(new JsonObject { ["name"] = "Big", ["text"] = new string('x', 70_000) }.ToJsonString());
        request.Content = new StreamContent(new MemoryStream(bytes)); // no Content-Length given
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.TransferEncodingChunked = true;
        request.Headers.Add("X-Api-Key", AdminKey);
        using var response = await Client.SendAsync(request);
        await response.AssertProblem(HttpStatusCode.RequestEntityTooLarge);
    }

    [Fact]
    public async Task ABodyJustUnder64KiBIsAccepted()
    {
        var body = new JsonObject { ["name"] = "Long text", ["text"] = new string('x', 60 * 1024) }.ToJsonString();
        using var response = await Post("/v1/sources", body);
        await response.Expect(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task WithoutIfMatchIs428Problem(string method)
    {
        var type = method == "PATCH" ? Writes.MergePatch : "application/json";
        using var response = await Client.Send(new HttpMethod(method), "/v1/services/bus-arrival-forecast",
            method == "DELETE" ? null : """{"name":"X"}""", AdminKey, null, type);
        var problem = await response.AssertProblem((HttpStatusCode)428);
        Assert.Contains("If-Match", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task StaleIfMatchIs412Problem(string method)
    {
        const string url = "/v1/services/bus-arrival-forecast";
        var stale = await Client.ETag(url);
        (await Patch(url, """{"figure":"changed"}""", stale)).EnsureSuccessStatusCode();

        var type = method == "PATCH" ? Writes.MergePatch : "application/json";
        using var response = await Client.Send(new HttpMethod(method), url,
            method == "DELETE" ? null : """{"name":"X"}""", AdminKey, stale, type);
        await response.AssertProblem(HttpStatusCode.PreconditionFailed);
        await Client.Json(url); // still there
    }

    [Fact]
    public async Task WeakIfMatchNeverMatches()
    {
        var etag = await Client.ETag("/v1/services/bus-arrival-forecast");
        using var response = await Patch("/v1/services/bus-arrival-forecast", """{"figure":"x"}""", "W/" + etag);
        await response.AssertProblem(HttpStatusCode.PreconditionFailed);
    }

    [Fact]
    public async Task ReplaceSetsEveryWritablePropertyAndAnswersTheNewETag()
    {
        const string url = "/v1/firms/smic";
        using var before = await Client.GetAsync(url);
        var oldETag = before.Headers.ETag!;
        var old = JsonNode.Parse(await before.Content.ReadAsStringAsync())!;

        using var response = await Put(url, """{"name":"SMIC","industries":["integrated-circuits","artificial-intelligence"]}""", oldETag.Tag);
        var record = await response.Expect(HttpStatusCode.OK);
        Assert.Equal("SMIC", record["name"]!.GetValue<string>());
        Assert.Null(record["zone"]);
        Assert.Null(record["description"]);
        Assert.Empty(record["citations"]!.AsArray());
        Assert.Equal(["artificial-intelligence", "integrated-circuits"], record["industries"]!.AsArray().Select(n => n!.GetValue<string>()));
        Assert.Equal(2, record["version"]!.GetValue<long>());
        Assert.Equal(old["createdAt"]!.GetValue<string>(), record["createdAt"]!.GetValue<string>());
        Assert.True(string.CompareOrdinal(record["updatedAt"]!.GetValue<string>(), old["updatedAt"]!.GetValue<string>()) > 0);
        Assert.NotEqual(oldETag, response.Headers.ETag);

        // GET shows the change; the old ETag no longer revalidates, the new one does.
        using var stale = new HttpRequestMessage(HttpMethod.Get, url);
        stale.Headers.IfNoneMatch.Add(oldETag);
        using var fresh = await Client.SendAsync(stale);
        Assert.Equal(HttpStatusCode.OK, fresh.StatusCode);
        Assert.Equal(await response.Content.ReadAsStringAsync(), await fresh.Content.ReadAsStringAsync());
        using var current = new HttpRequestMessage(HttpMethod.Get, url);
        current.Headers.IfNoneMatch.Add(response.Headers.ETag!);
        using var notModified = await Client.SendAsync(current);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);

        // The links moved with it: the nested lists read the join table.
        Assert.Contains("smic", (await Client.Json("/v1/industries/artificial-intelligence/firms")).Ids());
        Assert.DoesNotContain("smic", (await Client.Json("/v1/zones/lingang/firms")).Ids());
    }

    [Fact]
    public async Task ReplaceWithIfMatchStarMatchesAnyVersion()
    {
        using var response = await Put("/v1/zones/west-bund", """{"name":"West Bund","district":"Xuhui"}""", "*");
        var record = await response.Expect(HttpStatusCode.OK);
        Assert.Equal("Xuhui", record["district"]!.GetValue<string>());
    }

    [Fact]
    public async Task ReplaceWithAnotherIdInTheBodyIs400()
    {
        using var response = await Put("/v1/firms/smic", """{"id":"other","name":"SMIC"}""", "*");
        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("id"));
    }

    [Theory]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task WritingAnUnknownIdIs404Problem(string method)
    {
        var type = method == "PATCH" ? Writes.MergePatch : "application/json";
        using var response = await Client.Send(new HttpMethod(method), "/v1/firms/nobody",
            method == "DELETE" ? null : """{"name":"X"}""", AdminKey, "*", type);
        await response.AssertProblem(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task PatchMergesIntoTheCurrentRecordAndValidatesTheResult()
    {
        const string url = "/v1/firms/smic";
        var before = await Client.Json(url);
        using var response = await Patch(url, """{"description":"Patched.","zone":null}""", await Client.ETag(url));
        var record = await response.Expect(HttpStatusCode.OK);
        Assert.Equal("Patched.", record["description"]!.GetValue<string>());
        Assert.Null(record["zone"]);
        Assert.Equal(before["name"]!.GetValue<string>(), record["name"]!.GetValue<string>());
        Assert.True(JsonNode.DeepEquals(before["citations"], record["citations"]));
        Assert.True(JsonNode.DeepEquals(before["industries"], record["industries"]));
        Assert.Equal(2, record["version"]!.GetValue<long>());

        using var cleared = await Patch(url, """{"name":null}""", response.Headers.ETag!.Tag);
        Assert.True((await cleared.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("name"));
        using var owned = await Patch(url, """{"version":null}""", "*");
        Assert.True((await owned.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("version"));
        using var unknown = await Patch(url, """{"colour":"red"}""", "*");
        Assert.True((await unknown.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("colour"));
        // Even as null, which clears nothing: a firm has no such property to clear.
        using var unknownNull = await Patch(url, """{"colour":null}""", "*");
        Assert.True((await unknownNull.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("colour"));
        using var bad = await Patch(url, """{"industries":["nope"]}""", "*");
        Assert.True((await bad.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("industries[0]"));
        using var moved = await Patch(url, """{"id":"smic-2"}""", "*");
        Assert.True((await moved.AssertProblem(HttpStatusCode.BadRequest))["errors"]!.AsObject().ContainsKey("id"));
        Assert.Equal(2, (await Client.Json(url))["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task WritesKeepTheSearchIndexCurrent()
    {
        Assert.Empty((await Client.Json("/v1/services?q=zeppelin")).Ids());
        (await Patch("/v1/services/bus-arrival-forecast", """{"description":"Now tracks zeppelins too."}""", "*")).EnsureSuccessStatusCode();
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=zeppelin")).Ids());
        (await Post("/v1/services", """{"name":"Zeppelin port"}""")).EnsureSuccessStatusCode();
        Assert.Equal(2, (await Client.Json("/v1/services?q=zeppelin")).Ids().Count());
        (await Delete("/v1/services/zeppelin-port", "*")).EnsureSuccessStatusCode();
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=zeppelin")).Ids());

        // A write that leaves the indexed text alone leaves the record findable; one that changes a quote reindexes it.
        (await Patch("/v1/services/bus-arrival-forecast", """{"citations":[]}""", "*")).EnsureSuccessStatusCode();
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=zeppelin")).Ids());
        (await Patch("/v1/services/bus-arrival-forecast", """{"citations":[{"source":"shanghai-digital-hub","quote":"A quoted airship."}]}""", "*"))
            .EnsureSuccessStatusCode();
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=airship")).Ids());
        (await Patch("/v1/services/bus-arrival-forecast", """{"description":null}""", "*")).EnsureSuccessStatusCode();
        Assert.Empty((await Client.Json("/v1/services?q=zeppelin")).Ids());
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=airship")).Ids());
        (await Patch("/v1/services/bus-arrival-forecast", """{"citations":[{"source":"shanghai-digital-hub","quote":"A quoted balloon."}]}""", "*"))
            .EnsureSuccessStatusCode();
        Assert.Empty((await Client.Json("/v1/services?q=airship")).Ids());
        Assert.Equal(["bus-arrival-forecast"], (await Client.Json("/v1/services?q=balloon")).Ids());
    }

    [Fact]
    public async Task DeleteRemovesTheRecordWithItsLinks()
    {
        using var created = await Post("/v1/firms", """{"name":"Acme","zone":"zhangjiang","industries":["biomedicine"]}""");
        await created.Expect(HttpStatusCode.Created);
        Assert.Contains("acme", (await Client.Json("/v1/industries/biomedicine/firms")).Ids());

        using var deleted = await Delete("/v1/firms/acme", created.Headers.ETag!.Tag);
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Empty(await deleted.Content.ReadAsByteArrayAsync());
        await Client.Problem("/v1/firms/acme", HttpStatusCode.NotFound);
        Assert.DoesNotContain("acme", (await Client.Json("/v1/industries/biomedicine/firms")).Ids());
        Assert.DoesNotContain("acme", (await Client.Json("/v1/zones/zhangjiang/firms")).Ids());
        // Nothing pointed at biomedicine but the firm: it can go now.
        (await Delete("/v1/industries/biomedicine", "*")).EnsureSuccessStatusCode();
    }

    [Theory]
    [InlineData("/v1/zones/lingang", "firms smic (by zone)", "projects smic-lingang-wafer-plant (by zone)", "(by zones)")]
    [InlineData("/v1/zones/zhangjiang", "facilities", "indicators star-listed-chip-firms-zhangjiang (by zone)", "(by zones)")]
    [InlineData("/v1/industries/integrated-circuits", "firms smic (by industries)", "zones", "(by industries)")]
    [InlineData("/v1/firms/smic", "projects smic-lingang-wafer-plant (by firm)", "", "")]
    [InlineData("/v1/sources/shanghai-digital-hub", "firms smic (by citations)", "zones", "(by citations)")]
    public async Task DeletingARecordStillReferencedIs409NamingTheReferences(string url, string first, string second, string third)
    {
        using var response = await Delete(url, await Client.ETag(url));
        var problem = await response.AssertProblem(HttpStatusCode.Conflict);
        var detail = problem["detail"]!.GetValue<string>();
        Assert.Contains(first, detail);
        Assert.Contains(second, detail);
        Assert.Contains(third, detail);
        Assert.NotEmpty(problem["references"]!.AsArray());
        await Client.Json(url);
    }

    [Fact]
    public async Task TwoWritersRacingWithTheSameIfMatchHaveExactlyOneWinner()
    {
        const string url = "/v1/targets/intelligent-factories";
        for (var round = 0; round < 8; round++)
        {
            var etag = await Client.ETag(url);
            var writers = Enumerable.Range(0, 2).Select(i => Task.Run(() => Patch(url, $$"""{"unit":"factories {{round}}-{{i}}"}""", etag)));
            var responses = await Task.WhenAll(writers);
            var statuses = responses.Select(r => r.StatusCode).Order().ToList();
            Assert.Equal([HttpStatusCode.OK, HttpStatusCode.PreconditionFailed], statuses);
            var winner = responses.Single(r => r.StatusCode == HttpStatusCode.OK);
            Assert.Equal(winner.Headers.ETag!.Tag, await Client.ETag(url));
            foreach (var response in responses) response.Dispose();
        }
        Assert.Equal(9, (await Client.Json(url))["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task PostWithIdempotencyKeyReplaysTheFirstResponse()
    {
        const string body = """{"name":"Replayed service","area":"economy"}""";
        using var first = await Post("/v1/services", body, "key-1");
        var firstBody = await first.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);

        // A retry after a write in between still gets the first answer, and creates nothing.
        (await Patch("/v1/services/replayed-service", """{"figure":"1"}""", "*")).EnsureSuccessStatusCode();
        using var retry = await Post("/v1/services", body, "key-1");
        Assert.Equal(HttpStatusCode.Created, retry.StatusCode);
        Assert.Equal(firstBody, await retry.Content.ReadAsStringAsync());
        Assert.Equal(first.Headers.Location, retry.Headers.Location);
        Assert.Equal(first.Headers.ETag, retry.Headers.ETag);
        Assert.Equal("true", retry.Headers.GetValues("Idempotent-Replayed").Single());
        var changes = await Client.Json("/v1/changes?resource=services&limit=1000");
        Assert.Single(changes["items"]!.AsArray(), c => c!["id"]!.GetValue<string>() == "replayed-service" && c["op"]!.GetValue<string>() == "created");

        using var different = await Post("/v1/services", """{"name":"Another service"}""", "key-1");
        await different.AssertProblem(HttpStatusCode.UnprocessableEntity);
        using var otherPath = await Post("/v1/zones", body.Replace(",\"area\":\"economy\"", ""), "key-1");
        await otherPath.AssertProblem(HttpStatusCode.UnprocessableEntity);
        using var fresh = await Post("/v1/services", """{"name":"Another service"}""", "key-2");
        await fresh.Expect(HttpStatusCode.Created);
    }

    [Fact]
    public async Task FailedPostsAreNotRememberedByIdempotencyKey()
    {
        using var invalid = await Post("/v1/services", """{"name":"Fixed later","area":"space"}""", "key-1");
        await invalid.AssertProblem(HttpStatusCode.BadRequest);
        using var fixedUp = await Post("/v1/services", """{"name":"Fixed later","area":"economy"}""", "key-1");
        await fixedUp.Expect(HttpStatusCode.Created);
    }

    [Theory]
    [InlineData("has space")]
    [InlineData(256)]
    public async Task MalformedIdempotencyKeyIs400(object key)
    {
        using var response = await Post("/v1/services", """{"name":"X"}""", key as string ?? new string('k', (int)key));
        var problem = await response.AssertProblem(HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("Idempotency-Key"));
    }

    [Fact]
    public async Task WritesAreClosedToOtherOriginsWhileReadsStayOpen()
    {
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/firms");
        preflight.Headers.Add("Origin", "https://elsewhere.example");
        preflight.Headers.Add("Access-Control-Request-Method", "POST");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key,content-type");
        using var refused = await Client.SendAsync(preflight);
        Assert.False(refused.Headers.Contains("Access-Control-Allow-Origin"));

        using var post = new HttpRequestMessage(HttpMethod.Post, "/v1/services");
        post.Headers.Add("Origin", "https://elsewhere.example");
        post.Headers.Add("X-Api-Key", AdminKey);
        post.Content = new StringContent("""{"name":"Cross origin"}""", System.Text.Encoding.UTF8, "application/json");
        using var response = await Client.SendAsync(post);
        Assert.False(response.Headers.Contains("Access-Control-Allow-Origin"));
    }

    [Fact]
    public async Task ConfiguredWriteOriginsMayWrite()
    {
        Factory.With("Cors:WriteOrigins", "https://admin.example, https://ops.example");
        using var preflight = new HttpRequestMessage(HttpMethod.Options, "/v1/firms/smic");
        preflight.Headers.Add("Origin", "https://ops.example");
        preflight.Headers.Add("Access-Control-Request-Method", "PATCH");
        preflight.Headers.Add("Access-Control-Request-Headers", "x-api-key,content-type,if-match");
        using var allowed = await Client.SendAsync(preflight);
        Assert.Equal("https://ops.example", allowed.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("PATCH", allowed.Headers.GetValues("Access-Control-Allow-Methods").Single());
        Assert.Contains("X-Api-Key", allowed.Headers.GetValues("Access-Control-Allow-Headers").Single(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task EveryWriteBodySchemaCarriesExactlyTheWritableProperties()
    {
        var schemas = (await Client.Json("/swagger/v1/swagger.json"))["components"]!["schemas"]!;
        static List<string> Names(JsonNode? node) => node is JsonArray list ? [.. list.Select(n => n!.GetValue<string>())] : [];
        foreach (var resource in Catalog.Resources.All)
        {
            // The input is the patch's properties (allOf) with some required.
            var input = schemas[resource.SingularTitle + "Input"]!;
            Assert.Equal($"#/components/schemas/{resource.SingularTitle}Patch", input["allOf"]![0]!["$ref"]!.GetValue<string>());
            // Required in the contract exactly where the validator requires a value.
            Assert.Equal(["name", .. resource.Fields.Where(f => !f.Nullable).Select(f => f.Name)], Names(input["required"]));
            // A merge patch may name any of them, and needs none.
            var patch = schemas[resource.SingularTitle + "Patch"]!;
            Assert.Equal(resource.WritableNames, patch["properties"]!.AsObject().Select(p => p.Key));
            Assert.Empty(Names(patch["required"]));
        }
    }

    [Fact]
    public async Task OpenApiDocumentsEveryWrite()
    {
        var document = await Client.Json("/swagger/v1/swagger.json");
        var paths = document["paths"]!.AsObject();
        foreach (var resource in Catalog.Resources.All)
        {
            var collection = paths[$"/v1/{resource.Name}"]!;
            var item = paths[$"/v1/{resource.Name}/{{id}}"]!;
            var singular = resource.SingularTitle;
            var input = singular + "Input";
            // Every operation can also meet the rate limits (429), a busy database (503) and a fault (500); a write a full disk (507);
            // a write with a body one that never arrives (408).
            Check(collection["post"]!, "Create" + singular, "application/json", input, ["201", "400", "401", "403", "408", "409", "413", "415", "422", "429", "500", "503", "507"]);
            Check(item["put"]!, "Replace" + singular, "application/json", input, ["200", "400", "401", "403", "404", "408", "412", "413", "415", "428", "429", "500", "503", "507"]);
            Check(item["patch"]!, "Patch" + singular, "application/merge-patch+json", singular + "Patch", ["200", "400", "401", "403", "404", "408", "412", "413", "415", "428", "429", "500", "503", "507"]);
            // 409 only where another record can point at this one (a relation, or a citation of a source).
            var referable = Catalog.Resources.All.Any(r => r.Relations.Any(rel => rel.Target == resource.Name)) || resource.Name == HubApi.Resources.Citation.SourceResource;
            Check(item["delete"]!, "Delete" + singular, null, null,
                [.. new[] { "204", "400", "401", "403", "404", "412", "428", "429", "500", "503" }, .. referable ? new[] { "409" } : []]);
            // Reads need no key: they keep the document's default, one empty security requirement; writes name the key.
            Assert.Equal("[{}]", document["security"]!.ToJsonString());
            Assert.Null(item["get"]!["security"]);
            Assert.Null(collection["get"]!["security"]);
            Assert.Equal("ApiKey", item["put"]!["security"]![0]!.AsObject().Single().Key);
            // Parameters shared by many operations are declared once under components and referred to.
            JsonNode Parameter(JsonNode? p) => p!["$ref"] is { } r ? document["components"]!["parameters"]![r.GetValue<string>().Split('/')[^1]]! : p;
            Assert.Contains("Idempotency-Key", collection["post"]!["parameters"]!.AsArray().Select(p => Parameter(p)["name"]!.GetValue<string>()));
            foreach (var method in new[] { "put", "patch", "delete" })
            {
                var ifMatch = item[method]!["parameters"]!.AsArray().Select(Parameter).Single(p => p["name"]!.GetValue<string>() == "If-Match");
                Assert.True(ifMatch["required"]!.GetValue<bool>());
            }
        }
        Assert.Equal("X-Api-Key", document["components"]!["securitySchemes"]!["ApiKey"]!["name"]!.GetValue<string>());
        Assert.Equal("ListChanges", paths["/v1/changes"]!["get"]!["operationId"]!.GetValue<string>());
        Assert.Equal("StreamChanges", paths["/v1/changes/stream"]!["get"]!["operationId"]!.GetValue<string>());
        var ids = paths.SelectMany(p => p.Value!.AsObject().Select(o => o.Value!["operationId"]!.GetValue<string>())).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());

        static void Check(JsonNode operation, string id, string? contentType, string? schema, string[] statuses)
        {
            Assert.Equal(id, operation["operationId"]!.GetValue<string>());
            Assert.False(string.IsNullOrEmpty(operation["summary"]?.GetValue<string>()));
            Assert.False(string.IsNullOrEmpty(operation["description"]?.GetValue<string>()));
            Assert.Equal("ApiKey", operation["security"]![0]!.AsObject().Single().Key);
            Assert.Equal(statuses.Order(), operation["responses"]!.AsObject().Select(r => r.Key).Order());
            if (contentType is null) Assert.Null(operation["requestBody"]);
            else Assert.EndsWith("/" + schema, operation["requestBody"]!["content"]![contentType]!["schema"]!["$ref"]!.GetValue<string>());
        }
    }
}
