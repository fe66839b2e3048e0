using System.Net;
using System.Text.Json.Nodes;
using HubApi.Keys;

namespace HubApi.Tests;

/// <summary>Record history, version reads, the key each write is recorded under, and the audit log.</summary>
public sealed class HistoryTests : WriteTest
{
    private string CreateKey(string name, string scope)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = KeysCli.Run(CommandLine.Parse(["keys", "create", "--name", name, "--scope", scope]),
            (HubApi.Data.IStore)Factory.Services.GetService(typeof(HubApi.Data.IStore))!, output, error);
        Assert.True(code == 0, error.ToString());
        return output.ToString().Trim();
    }

    /// <summary>A firm created, patched three times (one patch clears a property) and replaced: the ETag each write answered, by version.</summary>
    private async Task<Dictionary<long, string>> WriteFirm(string id, string key = AdminKey)
    {
        var etags = new Dictionary<long, string>();
        using var created = await Client.Send(HttpMethod.Post, "/v1/firms", $$"""{"id":"{{id}}","name":"History firm","zone":"lingang","description":"First."}""", key);
        await created.Expect(HttpStatusCode.Created);
        etags[1] = created.Headers.ETag!.Tag;
        string[] patches = ["""{"description":"Second."}""", """{"industries":["integrated-circuits","media"]}""", """{"description":null,"zone":"zhangjiang"}"""];
        foreach (var patch in patches)
        {
            using var patched = await Client.Send(HttpMethod.Patch, $"/v1/firms/{id}", patch, key, etags[etags.Count], Writes.MergePatch);
            var record = await patched.Expect(HttpStatusCode.OK);
            etags[record["version"]!.GetValue<long>()] = patched.Headers.ETag!.Tag;
        }
        using var replaced = await Client.Send(HttpMethod.Put, $"/v1/firms/{id}", """{"name":"History firm, renamed","zone":"zhangjiang"}""", key, etags[etags.Count]);
        etags[(await replaced.Expect(HttpStatusCode.OK))["version"]!.GetValue<long>()] = replaced.Headers.ETag!.Tag;
        return etags;
    }

    private static JsonObject WithoutNulls(JsonObject record)
    {
        var copy = record.DeepClone().AsObject();
        foreach (var name in copy.Where(p => p.Value is null).Select(p => p.Key).ToList()) copy.Remove(name);
        return copy;
    }

    [Fact]
    public async Task AHistoryReplaysToTheCurrentRecord()
    {
        await WriteFirm("replayed");
        var history = await Client.Json("/v1/firms/replayed/history?order=oldest");
        var entries = history["items"]!.AsArray();
        Assert.Equal([1L, 2, 3, 4, 5], entries.Select(e => e!["version"]!.GetValue<long>()));
        Assert.Equal(["created", "updated", "updated", "updated", "updated"], entries.Select(e => e!["op"]!.GetValue<string>()));

        JsonNode? replayed = null;
        foreach (var entry in entries) replayed = Apply(replayed, entry!["changes"]);
        var current = (await Client.Json("/v1/firms/replayed")).AsObject();
        Assert.True(JsonNode.DeepEquals(WithoutNulls(current), replayed), $"replayed {replayed?.ToJsonString()}\ncurrent {current.ToJsonString()}");

        // The third patch cleared the description and moved the zone: its change says exactly that (and the new version).
        var third = entries[3]!["changes"]!.AsObject();
        Assert.Equal(["description", "zone", "version", "updatedAt"], third.Select(p => p.Key));
        Assert.Null(third["description"]);
    }

    /// <summary>RFC 7396, as a partner's client applies it.</summary>
    private static JsonNode? Apply(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject members) return patch?.DeepClone();
        var result = target is JsonObject existing ? existing : new JsonObject();
        foreach (var (name, value) in members)
        {
            if (value is null) result.Remove(name);
            else result[name] = Apply(result[name]?.DeepClone(), value);
        }
        return result;
    }

    [Fact]
    public async Task HistoryIsNewestFirstByDefaultAndPagesByCursor()
    {
        await WriteFirm("paged");
        var all = await Client.Json("/v1/firms/paged/history");
        Assert.Equal([5L, 4, 3, 2, 1], all["items"]!.AsArray().Select(e => e!["version"]!.GetValue<long>()));
        Assert.Null(all["next"]);

        var walked = new List<JsonNode>();
        using var first = await Client.GetAsync("/v1/firms/paged/history?limit=2");
        Assert.Contains("rel=\"next\"", first.Headers.GetValues("Link").Single());
        var page = JsonNode.Parse(await first.Content.ReadAsStringAsync())!;
        walked.AddRange(page["items"]!.AsArray()!);
        while (page["next"]?.GetValue<string>() is { } next)
        {
            page = await Client.Json($"/v1/firms/paged/history?limit=2&cursor={next}");
            walked.AddRange(page["items"]!.AsArray()!);
        }
        // Paged or not, each entry tells the same change against the same previous version.
        Assert.Equal(all["items"]!.ToJsonString(), new JsonArray([.. walked.Select(e => e.DeepClone())]).ToJsonString());
        var oldest = await Client.Json("/v1/firms/paged/history?limit=2&order=oldest&cursor=" +
                                       (await Client.Json("/v1/firms/paged/history?limit=2&order=oldest"))["next"]!.GetValue<string>());
        Assert.Equal([3L, 4], oldest["items"]!.AsArray().Select(e => e!["version"]!.GetValue<long>()));
        Assert.Equal(walked[2]["changes"]!.ToJsonString(), oldest["items"]![0]!["changes"]!.ToJsonString());
    }

    [Fact]
    public async Task EachVersionReadsBackWithTheETagItsWriteAnswered()
    {
        var etags = await WriteFirm("versioned");
        foreach (var (version, etag) in etags)
        {
            using var response = await Client.GetAsync($"/v1/firms/versioned?version={version}");
            var record = await response.Expect(HttpStatusCode.OK);
            Assert.Equal(version, record["version"]!.GetValue<long>());
            Assert.Equal(etag, response.Headers.ETag!.Tag);
        }
        var current = await Client.GetAsync("/v1/firms/versioned");
        Assert.Equal(etags[5], current.Headers.ETag!.Tag);
        Assert.Equal("Second.", (await Client.Json("/v1/firms/versioned?version=2"))["description"]!.GetValue<string>());

        await Client.Problem("/v1/firms/versioned?version=6", HttpStatusCode.NotFound);
        var invalid = await Client.Problem("/v1/firms/versioned?version=first", HttpStatusCode.BadRequest);
        Assert.True(invalid["errors"]!.AsObject().ContainsKey("version"));
        await Client.Problem("/v1/firms/versioned?version=0", HttpStatusCode.BadRequest);
        await Client.Problem("/v1/firms/never-was/history", HttpStatusCode.NotFound);
        await Client.Problem("/v1/firms/versioned/history?order=sideways", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task ADeletedRecordKeepsItsHistoryAndVersions()
    {
        var etags = await WriteFirm("deleted");
        (await Delete("/v1/firms/deleted", etags[5])).EnsureSuccessStatusCode();
        await Client.Problem("/v1/firms/deleted", HttpStatusCode.NotFound);

        var history = await Client.Json("/v1/firms/deleted/history");
        var latest = history["items"]![0]!;
        Assert.Equal(("deleted", 6L, "admin"), (latest["op"]!.GetValue<string>(), latest["version"]!.GetValue<long>(), latest["by"]!.GetValue<string>()));
        Assert.Null(latest["changes"]); // the merge patch that removes the whole document
        Assert.Equal(6, history["items"]!.AsArray().Count);
        using var first = await Client.GetAsync("/v1/firms/deleted?version=1");
        Assert.Equal("First.", (await first.Expect(HttpStatusCode.OK))["description"]!.GetValue<string>());
        Assert.Equal(etags[1], first.Headers.ETag!.Tag);
        await Client.Problem("/v1/firms/deleted?version=6", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task FeedRowsAndHistoryNameTheKeyThatWroteThemNeverTheKeyItself()
    {
        var partner = CreateKey("partner", "write");
        var feed = await Client.Json("/v1/changes?after=0&limit=5");
        Assert.All(feed["items"]!.AsArray(), r => Assert.Equal("seed", r!["by"]!.GetValue<string>()));
        var last = Factory.Scalar<long>("select max(seq) from changes");

        await WriteFirm("by-partner", partner);
        var rows = (await Client.Json($"/v1/changes?after={last}"))["items"]!.AsArray();
        Assert.Equal(5, rows.Count);
        Assert.All(rows, r => Assert.Equal("partner", r!["by"]!.GetValue<string>()));
        using var history = await Client.GetAsync("/v1/firms/by-partner/history");
        var text = await history.Content.ReadAsStringAsync();
        Assert.All(JsonNode.Parse(text)!["items"]!.AsArray(), e => Assert.Equal("partner", e!["by"]!.GetValue<string>()));
        Assert.DoesNotContain(partner, text);
        Assert.Equal("seed", (await Client.Json("/v1/firms/smic/history"))["items"]![0]!["by"]!.GetValue<string>());
    }

    [Fact]
    public async Task TheAuditLogIsForAdminKeysAndFiltersByKeyAndResource()
    {
        var writer = CreateKey("writer", "write");
        var auditor = CreateKey("auditor", "admin");
        await WriteFirm("audited", writer);
        (await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"Audited service"}""", writer)).EnsureSuccessStatusCode();
        (await Post("/v1/services", """{"name":"Admin service"}""")).EnsureSuccessStatusCode();

        await Client.Problem("/v1/audit", HttpStatusCode.Unauthorized);
        using (var forbidden = await Client.Send(HttpMethod.Get, "/v1/audit", key: writer))
            Assert.Contains("admin", (await forbidden.AssertProblem(HttpStatusCode.Forbidden))["detail"]!.GetValue<string>());

        async Task<List<JsonNode>> Audit(string query)
        {
            var items = new List<JsonNode>();
            string? cursor = null;
            do
            {
                using var response = await Client.Send(HttpMethod.Get, $"/v1/audit?limit=2{query}{(cursor is null ? "" : "&cursor=" + cursor)}", key: auditor);
                var page = await response.Expect(HttpStatusCode.OK);
                items.AddRange(page["items"]!.AsArray().Select(i => i!.DeepClone()));
                cursor = page["next"]?.GetValue<string>();
            } while (cursor is not null);
            return items;
        }

        var byWriter = await Audit("&key=writer");
        Assert.Equal(6, byWriter.Count);
        Assert.All(byWriter, i => Assert.Equal("writer", i["by"]!.GetValue<string>()));
        var seqs = byWriter.Select(i => i["seq"]!.GetValue<long>()).ToList();
        Assert.Equal(seqs.OrderDescending(), seqs); // newest first
        var services = await Audit("&key=writer,admin&resource=services");
        Assert.Equal(["admin-service", "audited-service"], services.Select(i => i["id"]!.GetValue<string>()));
        using var unknown = await Client.Send(HttpMethod.Get, "/v1/audit?resource=nothing", key: auditor);
        await unknown.AssertProblem(HttpStatusCode.BadRequest);
    }
}
