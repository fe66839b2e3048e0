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
}
