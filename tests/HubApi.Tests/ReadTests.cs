using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

public sealed class ReadTests : ApiTest
{
    public static readonly TheoryData<string> Collections =
        ["sources", "zones", "industries", "firms", "targets", "projects", "facilities", "services", "indicators"];

    [Theory]
    [MemberData(nameof(Collections))]
    public async Task EveryCollectionListsSeededRecordsWithCitations(string resource)
    {
        var page = await Client.Json($"/v1/{resource}");
        var items = page["items"]!.AsArray();
        Assert.NotEmpty(items);
        Assert.True(page.AsObject().ContainsKey("next"));
        foreach (var item in items)
        {
            Assert.Matches("^[a-z0-9]+(-[a-z0-9]+)*$", item!["id"]!.GetValue<string>());
            Assert.False(string.IsNullOrWhiteSpace(item["name"]!.GetValue<string>()));
            Assert.NotEmpty(item["citations"]!.AsArray());
            Assert.Equal(1, item["version"]!.GetValue<long>());
            Assert.EndsWith("Z", item["createdAt"]!.GetValue<string>());
        }
    }

    [Theory]
    [MemberData(nameof(Collections))]
    public async Task EveryListedRecordCanBeFetchedById(string resource)
    {
        var page = await Client.Json($"/v1/{resource}?limit=100");
        foreach (var item in page["items"]!.AsArray())
        {
            var one = await Client.Json($"/v1/{resource}/{item!["id"]}");
            Assert.Equal(item.ToJsonString(), one.ToJsonString());
        }
    }

    [Theory]
    [InlineData("/v1/zones/lingang/firms", "smic")]
    [InlineData("/v1/zones/zhangjiang/facilities", "alzheimers-drug-lab,ssrf")]
    [InlineData("/v1/zones/west-bund/industries", "art,artificial-intelligence,blockchain,electronic-art-trading,media,new-media-creation")]
    [InlineData("/v1/zones/lingang/projects", "smic-lingang-wafer-plant")]
    [InlineData("/v1/zones/zhangjiang/indicators", "star-listed-chip-firms-zhangjiang")]
    [InlineData("/v1/industries/integrated-circuits/firms", "smic")]
    [InlineData("/v1/industries/artificial-intelligence/zones", "lingang,west-bund")]
    [InlineData("/v1/industries/biomedicine/targets", "")]
    [InlineData("/v1/firms/smic/projects", "smic-lingang-wafer-plant")]
    public async Task NestedListsReturnTheRelatedRecords(string url, string expected)
    {
        var page = await Client.Json(url);
        Assert.Equal(expected, string.Join(",", page.Ids()));
    }

    [Theory]
    [InlineData("/v1/zones/nowhere/firms")]
    [InlineData("/v1/industries/nothing/targets")]
    [InlineData("/v1/firms/nobody/projects")]
    public async Task NestedListOfUnknownParentIs404(string url)
    {
        var problem = await Client.Problem(url, HttpStatusCode.NotFound);
        Assert.Contains("no", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task RelationsAppearAsIds()
    {
        var firm = await Client.Json("/v1/firms/smic");
        Assert.Equal("lingang", firm["zone"]!.GetValue<string>());
        Assert.Equal(["integrated-circuits"], firm["industries"]!.AsArray().Select(i => i!.GetValue<string>()));
        var project = await Client.Json("/v1/projects/smic-lingang-wafer-plant");
        Assert.Equal("smic", project["firm"]!.GetValue<string>());
        Assert.Equal("lingang", project["zone"]!.GetValue<string>());
        Assert.Equal(8.9e9, project["investmentUsd"]!.GetValue<double>());
    }

    [Fact]
    public async Task UnknownIdIs404Problem()
    {
        var problem = await Client.Problem("/v1/firms/no-such-firm", HttpStatusCode.NotFound);
        Assert.Contains("no-such-firm", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task UnknownRouteIs404Problem() => await Client.Problem("/v1/nothing-here", HttpStatusCode.NotFound);

    [Fact]
    public async Task WrongMethodIs405Problem() => await Client.Problem("/v1/zones", HttpStatusCode.MethodNotAllowed, HttpMethod.Put);

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=101")]
    [InlineData("limit=abc")]
    [InlineData("limit=")]
    [InlineData("limit=-5")]
    [InlineData("limit=1.5")]
    [InlineData("cursor=garbage")]
    [InlineData("cursor=")]
    [InlineData("limit=2&limit=3")]
    [InlineData("colour=red")]
    public async Task BadPagingParametersAre400Problems(string query)
    {
        var problem = await Client.Problem("/v1/industries?" + query, HttpStatusCode.BadRequest);
        Assert.NotEmpty(problem["errors"]!.AsObject());
    }

    [Fact]
    public async Task WalkingAllPagesYieldsEveryRecordOnce()
    {
        var all = (await Client.Json("/v1/industries?limit=100")).Ids().ToList();
        var seen = new List<string>();
        string? url = "/v1/industries?limit=3";
        while (url is not null)
        {
            using var response = await Client.GetAsync(url);
            response.EnsureSuccessStatusCode();
            var page = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
            seen.AddRange(page.Ids());
            var next = page["next"]?.GetValue<string>();
            if (next is null)
            {
                Assert.False(response.Headers.Contains("Link"));
                url = null;
            }
            else
            {
                var link = response.Headers.GetValues("Link").Single();
                Assert.Matches("^<http://localhost/v1/industries\\?limit=3&cursor=[^>]+>; rel=\"next\"$", link);
                url = link[1..link.IndexOf('>')];
            }
        }
        Assert.Equal(8, all.Count);
        Assert.Equal(all, seen);
    }

    [Fact]
    public async Task CursorFromAnotherQueryIsRefused()
    {
        var page = await Client.Json("/v1/industries?limit=2");
        var cursor = page["next"]!.GetValue<string>();
        var problem = await Client.Problem($"/v1/industries?limit=2&sort=-name&cursor={cursor}", HttpStatusCode.BadRequest);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("cursor"));
        var tampered = cursor[..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];
        await Client.Problem($"/v1/industries?limit=2&cursor={tampered}", HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task GetCarriesStrongETagAndMatchingIfNoneMatchIs304()
    {
        using var first = await Client.GetAsync("/v1/zones/zhangjiang");
        var etag = first.Headers.ETag!;
        Assert.False(etag.IsWeak);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/zones/zhangjiang");
        request.Headers.IfNoneMatch.Add(etag);
        using var second = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        Assert.Equal(etag, second.Headers.ETag);
        Assert.Empty(await second.Content.ReadAsByteArrayAsync());

        using var other = new HttpRequestMessage(HttpMethod.Get, "/v1/zones/zhangjiang");
        other.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"something-else\""));
        using var third = await Client.SendAsync(other);
        Assert.Equal(HttpStatusCode.OK, third.StatusCode);
    }

    [Fact]
    public async Task CollectionsCarryETagsToo()
    {
        using var first = await Client.GetAsync("/v1/services?limit=3");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/services?limit=3");
        request.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        using var second = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, second.StatusCode);
        using var different = await Client.GetAsync("/v1/services?limit=4");
        Assert.NotEqual(first.Headers.ETag, different.Headers.ETag);
    }

    [Fact]
    public async Task AnonymousGetsAreOpenToAnyOrigin()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/zones");
        request.Headers.Add("Origin", "https://front.example");
        using var response = await Client.SendAsync(request);
        Assert.Equal("*", response.Headers.GetValues("Access-Control-Allow-Origin").Single());
        Assert.Contains("ETag", response.Headers.GetValues("Access-Control-Expose-Headers").Single());
    }

    [Fact]
    public async Task JsonIsCamelCase()
    {
        var project = await Client.Json("/v1/projects/smic-lingang-wafer-plant");
        Assert.NotNull(project["investmentUsd"]);
        Assert.NotNull(project["createdAt"]);
    }
}
