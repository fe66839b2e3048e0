using HubApi.Client;

namespace HubApi.ClientTests;

/// <summary>
/// The partner door: the C# client NSwag generates from openapi.yaml, driving the real service through the flows a
/// partner's integration runs: filtered lists, paging to the end, includes, gets, conditional GETs, writes with the
/// key and If-Match, and a change-feed sync.
/// </summary>
public sealed class PartnerClientTests(LiveService service) : IClassFixture<LiveService>, IDisposable
{
    private readonly HttpClient http = service.CreateClient();
    private readonly HttpClient keyed = service.CreateClient(service.AdminKey);
    private HubApiClient Anonymous => new(http);
    private HubApiClient Partner => new(keyed);

    public void Dispose()
    {
        http.Dispose();
        keyed.Dispose();
    }

    private static string Header(HubResponse response, string name) =>
        response.Headers.Single(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Value.Single();

    [Fact]
    public async Task ListsWithTypedFiltersAndSort()
    {
        var page = await Anonymous.ListIndustriesAsync(limit: 100, cursor: null, sort: [IndustrySortKey.NameDescending], fields: null,
            include: null, count: true, q: null, strategic: true, zone: null, if_None_Match: null);
        Assert.Equal(200, page.StatusCode);
        Assert.NotEmpty(page.Result.Items);
        Assert.All(page.Result.Items, i => Assert.True(i.Strategic));
        Assert.Equal(page.Result.Items.Select(i => i.Name).OrderDescending(StringComparer.Ordinal), page.Result.Items.Select(i => i.Name));
        Assert.Equal(page.Result.Items.Count, page.Result.Total);

        var firms = await Anonymous.ListFirmsAsync(null, null, null, null, null, null, null, zone: ["lingang", "zhangjiang"],
            industry: ["integrated-circuits"], if_None_Match: null);
        Assert.Contains(firms.Result.Items, f => f.Id == "smic");
    }

    [Fact]
    public async Task PagesToTheEndEachRecordOnce()
    {
        var all = await Anonymous.ListIndustriesAsync(100, null, null, null, null, count: true, null, null, null, null);
        var seen = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var page = await Anonymous.ListIndustriesAsync(limit: 3, cursor, sort: [IndustrySortKey.Name], null, null, null, null, null, null, null);
            seen.AddRange(page.Result.Items.Select(i => i.Id));
            cursor = page.Result.Next;
            pages++;
        } while (cursor is not null && pages < 50);
        Assert.Null(cursor);
        Assert.Equal(all.Result.Total, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task GetsOneRecordAndItsNestedList()
    {
        var smic = await Anonymous.GetFirmAsync("smic", null, null);
        Assert.Equal("Semiconductor Manufacturing International Corporation", smic.Result.Name);
        Assert.Equal("lingang", smic.Result.Zone);
        Assert.Contains("integrated-circuits", smic.Result.Industries!);
        Assert.NotEmpty(smic.Result.Citations!);

        var facilities = await Anonymous.ListZoneFacilitiesAsync("zhangjiang", null, null, null, null, null, null, null, null, null, null);
        Assert.Contains(facilities.Result.Items, f => f.Id == "ssrf");
    }

    [Fact]
    public async Task SelectsFieldsAndCountsFacets()
    {
        var zones = await Anonymous.ListZonesAsync(null, null, null, fields: [ZoneField.Name], null, null, null, null, null, null);
        Assert.All(zones.Result.Items, z => { Assert.NotNull(z.Name); Assert.Null(z.Description); Assert.Null(z.Industries); });

        var facets = await Anonymous.GetServiceFacetsAsync([ServiceFacet.Area], null, null, null);
        Assert.NotEmpty(facets.Result.Area!);
        Assert.All(facets.Result.Area!, c => Assert.True(c.Count >= 1));
    }

    [Fact]
    public async Task ConditionalGetAnswers304WhileTheETagMatches()
    {
        var zone = await Anonymous.GetZoneAsync("lingang", null, null);
        var etag = Header(zone, "ETag");
        // NSwag's clients raise every status other than 200 as an exception: 304 is one a partner catches.
        var notModified = await Assert.ThrowsAsync<HubApiException>(() => Anonymous.GetZoneAsync("lingang", null, etag));
        Assert.Equal(304, notModified.StatusCode);
    }

    [Fact]
    public async Task UnknownIdIsA404Problem()
    {
        var problem = await Assert.ThrowsAsync<HubApiException<ProblemDetails>>(() => Anonymous.GetFirmAsync("no-such-firm", null, null));
        Assert.Equal(404, problem.StatusCode);
        Assert.Equal(404, problem.Result.Status);
        Assert.Contains("no-such-firm", problem.Result.Detail);
        Assert.Matches("^[0-9a-f]{32}$", problem.Result.TraceId);
    }

    [Fact]
    public async Task CreatesPatchesAndDeletesWithTheKeyAndIfMatchAndTheFeedTellsEachStep()
    {
        var after = await EndOfFeed();
        var id = "quantum-" + Guid.NewGuid().ToString("N")[..8];
        var idempotencyKey = Guid.NewGuid().ToString();

        var input = new IndustryInput { Id = id, Name = "Quantum computing", Strategic = false, Description = "Added by the partner tests." };
        var created = await Partner.CreateIndustryAsync(idempotencyKey, input);
        Assert.Equal(201, created.StatusCode);
        Assert.Equal(1, created.Result.Version);
        Assert.Equal($"/v1/industries/{id}", Header(created, "Location"));
        var replayed = await Partner.CreateIndustryAsync(idempotencyKey, input);
        Assert.Equal("true", Header(replayed, "Idempotent-Replayed"));

        var patched = await Partner.PatchIndustryAsync(id, Header(created, "ETag"), new IndustryPatch { Description = "Patched by a partner." });
        Assert.Equal(2, patched.Result.Version);
        Assert.Equal("Patched by a partner.", patched.Result.Description);

        var stale = await Assert.ThrowsAsync<HubApiException<ProblemDetails>>(() =>
            Partner.PatchIndustryAsync(id, Header(created, "ETag"), new IndustryPatch { Description = "A lost update." }));
        Assert.Equal(412, stale.StatusCode);

        var replaced = await Partner.ReplaceIndustryAsync(id, Header(patched, "ETag"),
            new IndustryInput { Name = "Quantum computing", Strategic = true, Description = "Replaced by a partner." });
        Assert.True(replaced.Result.Strategic);

        var deleted = await Partner.DeleteIndustryAsync(id, Header(replaced, "ETag"));
        Assert.Equal(204, deleted.StatusCode);
        Assert.Equal(404, (await Assert.ThrowsAsync<HubApiException<ProblemDetails>>(() => Anonymous.GetIndustryAsync(id, null, null))).StatusCode);

        var changes = new List<Change>();
        for (long? next = after; next is not null;)
        {
            var page = await Anonymous.ListChangesAsync(next, limit: 100, resource: [ResourceName.Industries], null);
            changes.AddRange(page.Result.Items);
            next = page.Result.Next;
        }
        Assert.Equal(
            [(ChangeOp.Created, 1L), (ChangeOp.Updated, 2L), (ChangeOp.Updated, 3L), (ChangeOp.Deleted, 4L)],
            changes.Where(c => c.Id == id).Select(c => (c.Op, c.Version)));
    }

    [Fact]
    public async Task WritesWithoutAValidKeyAre401AndInvalidRecords400()
    {
        using var strangerHttp = service.CreateClient("not-a-key-of-this-service");
        var unauthorized = await Assert.ThrowsAsync<HubApiException<ProblemDetails>>(() =>
            new HubApiClient(strangerHttp).CreateZoneAsync(null, new ZoneInput { Name = "Nowhere" }));
        Assert.Equal(401, unauthorized.StatusCode);

        var invalid = await Assert.ThrowsAsync<HubApiException<HttpValidationProblemDetails>>(() =>
            Partner.CreateTargetAsync(null, new TargetInput { Name = "A target of no industry", Industry = "no-such-industry", Deadline = 2030 }));
        Assert.Equal(400, invalid.StatusCode);
        Assert.Contains("industry", invalid.Result.Errors!.Keys);
    }

    /// <summary>A partner's first sync: follow the feed to its end; the last seq is where the next sync starts.</summary>
    private async Task<long> EndOfFeed()
    {
        long after = 0;
        while (true)
        {
            var page = await Anonymous.ListChangesAsync(after, limit: 1000, resource: null, null);
            after = page.Result.Items.LastOrDefault()?.Seq ?? after;
            if (page.Result.Next is null) return after;
        }
    }
}
