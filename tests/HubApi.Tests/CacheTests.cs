using System.Net;
using System.Net.Http.Headers;

namespace HubApi.Tests;

/// <summary>GETs are served from a cache of rendered responses; after any write, GET and 304 reflect it at once.</summary>
public sealed class CacheTests : WriteTest
{
    private async Task<(string Body, EntityTagHeaderValue ETag)> Get(string url)
    {
        using var response = await Client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadAsStringAsync(), response.Headers.ETag!);
    }

    private async Task<HttpStatusCode> Revalidate(string url, EntityTagHeaderValue etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        request.Headers.IfNoneMatch.Add(etag);
        using var response = await Client.SendAsync(request);
        return response.StatusCode;
    }

    [Theory]
    [InlineData("/v1/zones/lingang")]
    [InlineData("/v1/zones?fields=name")]
    [InlineData("/v1/zones?q=chip")]
    [InlineData("/v1/industries/artificial-intelligence/zones")]
    [InlineData("/v1/firms?include=zone")]
    [InlineData("/v1/zones/facets?by=district")]
    public async Task AWriteIsVisibleAtOnceAndOldETagsNoLongerMatch(string url)
    {
        var (before, etag) = await Get(url);
        Assert.Equal(before, (await Get(url)).Body); // served again, from the cache
        Assert.Equal(HttpStatusCode.NotModified, await Revalidate(url, etag));

        var current = await Client.ETag("/v1/zones/lingang");
        (await Patch("/v1/zones/lingang", """{"name":"Lingang New Area","district":"Pudong"}""", current)).EnsureSuccessStatusCode();

        var (after, newETag) = await Get(url);
        Assert.NotEqual(before, after);
        Assert.NotEqual(etag, newETag);
        Assert.Equal(HttpStatusCode.OK, await Revalidate(url, etag));
        Assert.Equal(HttpStatusCode.NotModified, await Revalidate(url, newETag));
    }

    [Fact]
    public async Task CreatesAndDeletesShowInCachedListsAtOnce()
    {
        Assert.DoesNotContain("quantum", (await Get("/v1/industries?limit=100")).Body);
        (await Post("/v1/industries", """{"name":"Quantum","strategic":false}""")).EnsureSuccessStatusCode();
        Assert.Contains("quantum", (await Get("/v1/industries?limit=100")).Body);
        (await Delete("/v1/industries/quantum", "*")).EnsureSuccessStatusCode();
        Assert.DoesNotContain("\"quantum\"", (await Get("/v1/industries?limit=100")).Body);
        await Client.Problem("/v1/industries/quantum", HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("/v1/firms/smic")]
    [InlineData("/v1/zones?sort=name&limit=2")]
    public async Task ACachedAnswerCarriesTheHeadersOfTheFirst(string url)
    {
        // Served early in the pipeline, a cached answer still passes CORS and gets the security headers.
        async Task<(HttpStatusCode, string)> Send(string? ifNoneMatch)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            request.Headers.Add("Origin", "https://front.example");
            if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
            using var response = await Client.SendAsync(request);
            var headers = response.Headers.Concat(response.Content.Headers).Where(h => h.Key != "Date")
                .OrderBy(h => h.Key).Select(h => $"{h.Key}: {string.Join(", ", h.Value)}");
            return (response.StatusCode, string.Join("\n", headers));
        }

        var (_, first) = await Send(null);
        Assert.Contains("Access-Control-Allow-Origin: *", first);
        Assert.Contains("Content-Security-Policy", first);
        Assert.Equal((HttpStatusCode.OK, first), await Send(null));
        var etag = (await Get(url)).ETag.ToString();
        var (status, revalidated) = await Send(etag);
        Assert.Equal(HttpStatusCode.NotModified, status);
        Assert.Contains("Access-Control-Allow-Origin: *", revalidated);
        Assert.Contains("Content-Security-Policy", revalidated);
        Assert.Contains($"ETag: {etag}", revalidated);
    }

    [Theory]
    [InlineData(null, false)]
    [InlineData("0", true)]
    public async Task MaxEntriesZeroTurnsTheCacheOff(string? maxEntries, bool seesChangesMadeBehindItsBack)
    {
        // A change made straight in the database, not through the API, retires nothing: only an uncached read sees it.
        using var factory = new HubApiFactory();
        if (maxEntries is not null) factory.With("ResponseCache:MaxEntries", maxEntries);
        using var client = factory.CreateClient();
        Assert.Contains("Lingang", await client.GetStringAsync("/v1/zones/lingang"));
        factory.Execute("update zones set name = 'Renamed behind its back' where id = 'lingang'");
        Assert.Equal(seesChangesMadeBehindItsBack, (await client.GetStringAsync("/v1/zones/lingang")).Contains("Renamed behind its back"));
    }

    [Theory]
    [InlineData("PATCH", null, true)]
    [InlineData("PUT", null, true)]
    [InlineData("POST", null, true)]
    [InlineData("PATCH", "0", false)]
    public async Task AWrittenRecordIsTheAnswerToItsNextGet(string method, string? maxEntries, bool cached)
    {
        // The write's commit keeps its answer as the record's GET: a change made straight in the database afterwards,
        // which retires nothing, stays unseen; with the cache off, the next GET reads it.
        if (maxEntries is not null) Factory.With("ResponseCache:MaxEntries", maxEntries);
        var (url, body) = method switch
        {
            "POST" => ("/v1/industries/quantum-computing", """{"name":"Quantum computing","strategic":true}"""),
            _ => ("/v1/zones/lingang", """{"name":"Lingang","district":"Pudong","description":"Written through the API."}"""),
        };
        using var written = method switch
        {
            "POST" => await Post("/v1/industries", body),
            "PUT" => await Put(url, body, "*"),
            _ => await Patch(url, """{"description":"Written through the API."}""", "*"),
        };
        Assert.True(written.IsSuccessStatusCode, $"{method} answered {written.StatusCode}");
        var answer = await written.Content.ReadAsStringAsync();

        Assert.Equal(1, Factory.Execute($"update {url.Split('/')[2]} set name = 'Renamed behind its back' where id = @id", new { id = url.Split('/')[3] }));

        var (read, etag) = await Get(url);
        Assert.Equal(cached, read == answer);
        Assert.Equal(!cached, read.Contains("Renamed behind its back"));
        if (cached) Assert.Equal(written.Headers.ETag, etag);
    }

    [Fact]
    public async Task AWriteToOneSideOfASharedLinkShowsOnTheOtherSideAtOnce()
    {
        // zones.industries and industries.zones are one link table: writing a zone's links changes industries' records too.
        var (removedFrom, removedETag) = await Get("/v1/industries/integrated-circuits");
        var (addedTo, addedETag) = await Get("/v1/industries/biomedicine");
        Assert.Contains("lingang", removedFrom);
        Assert.DoesNotContain("lingang", addedTo);
        Assert.Equal(HttpStatusCode.NotModified, await Revalidate("/v1/industries/integrated-circuits", removedETag));

        (await Patch("/v1/zones/lingang", """{"industries":["artificial-intelligence","biomedicine"]}""", "*")).EnsureSuccessStatusCode();

        Assert.DoesNotContain("lingang", (await Get("/v1/industries/integrated-circuits")).Body);
        Assert.Contains("lingang", (await Get("/v1/industries/biomedicine")).Body);
        Assert.Equal(HttpStatusCode.OK, await Revalidate("/v1/industries/integrated-circuits", removedETag));
        Assert.Equal(HttpStatusCode.OK, await Revalidate("/v1/industries/biomedicine", addedETag));
    }

    [Fact]
    public async Task AWriteThatKeepsItsLinksLeavesTheLinkedRecordsCached()
    {
        // Only the records on the other side of a link added or removed are retired: a zone's new description leaves
        // its industries' cached answers in place, as a change made behind the API's back shows.
        var url = "/v1/industries/integrated-circuits";
        var (before, _) = await Get(url);
        Assert.Contains("lingang", before);
        Assert.Equal(1, Factory.Execute("update industries set name = 'Renamed behind its back' where id = 'integrated-circuits'"));

        (await Patch("/v1/zones/lingang", """{"description":"A new description, the same industries."}""", "*")).EnsureSuccessStatusCode();
        Assert.Equal(before, (await Get(url)).Body);

        (await Patch("/v1/zones/lingang", """{"industries":["artificial-intelligence"]}""", "*")).EnsureSuccessStatusCode();
        Assert.Contains("Renamed behind its back", (await Get(url)).Body);
    }

    [Fact]
    public async Task ConcurrentWritesToBothSidesOfALinkLeaveBothAnswersAgreeing()
    {
        // Writes that share a commit may write an industry and then link or unlink it from a zone: the industry's answer,
        // kept by its own write, must not outlive the zone's write that changed it. Each round races them anew.
        for (var round = 0; round < 8; round++)
        {
            var writes = Enumerable.Range(0, 40).Select(async i =>
            {
                using var response = i % 2 == 0
                    ? await Patch("/v1/industries/artificial-intelligence", $$"""{"description":"Concurrent write {{i}}."}""", "*")
                    : await Patch("/v1/zones/lingang", (i + round) % 4 == 1 ? """{"industries":["artificial-intelligence"]}""" : """{"industries":[]}""", "*");
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            });
            await Task.WhenAll(writes);

            var zone = System.Text.Json.Nodes.JsonNode.Parse((await Get("/v1/zones/lingang")).Body)!["industries"]!.AsArray();
            var industry = System.Text.Json.Nodes.JsonNode.Parse((await Get("/v1/industries/artificial-intelligence")).Body)!["zones"]!.AsArray();
            Assert.Equal(zone.Any(n => (string)n! == "artificial-intelligence"), industry.Any(n => (string)n! == "lingang"));
        }
    }

    [Fact]
    public async Task ConcurrentWritesAreEachVisibleWhenAnsweredAndNoneIsLost()
    {
        // Writes that arrive together share one commit, and none is answered before it: a GET after the answer shows
        // that write or a later one, never an earlier version from the cache.
        var urls = new[] { "/v1/zones/lingang", "/v1/zones/zhangjiang", "/v1/firms/smic", "/v1/industries/integrated-circuits" };
        var initial = new Dictionary<string, long>();
        foreach (var url in urls) initial[url] = Version((await Get(url)).Body);
        var writes = Enumerable.Range(0, 48).Select(async i =>
        {
            var url = urls[i % urls.Length];
            using var response = await Patch(url, $$"""{"description":"Concurrent write {{i}}."}""", "*");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var written = Version(await response.Content.ReadAsStringAsync());
            var seen = Version((await Get(url)).Body);
            Assert.True(seen >= written, $"GET {url} showed version {seen} after write {i} was answered with version {written}");
        });
        await Task.WhenAll(writes);
        foreach (var url in urls) Assert.Equal(initial[url] + 12, Version((await Get(url)).Body));
    }

    private static long Version(string body) => System.Text.Json.Nodes.JsonNode.Parse(body)!["version"]!.GetValue<long>();
}
