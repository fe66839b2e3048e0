using HubApi.Kiota;
using HubApi.Kiota.Models;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using Microsoft.Kiota.Http.HttpClientLibrary.Middleware.Options;

namespace HubApi.ClientTests;

/// <summary>
/// The partner door through Kiota: the client `kiota generate -l CSharp` makes from openapi.yaml at its default settings
/// (a namespace and a class name given), on the Microsoft.Kiota.* packages, driving the real service.
/// </summary>
public sealed class KiotaClientTests(LiveService service) : IClassFixture<LiveService>, IDisposable
{
    // Kiota's own HttpClient, with its middleware (retries, redirects, headers inspection); the key as a default header.
    private readonly HttpClient http = KiotaClientFactory.Create();
    private readonly HttpClient keyed = Keyed(service.AdminKey);

    private static HttpClient Keyed(string key)
    {
        var client = KiotaClientFactory.Create();
        client.DefaultRequestHeaders.Add("X-Api-Key", key);
        return client;
    }

    public void Dispose()
    {
        http.Dispose();
        keyed.Dispose();
    }

    private HubApiClient Client(HttpClient httpClient) =>
        new(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: httpClient) { BaseUrl = service.BaseAddress.ToString().TrimEnd('/') });

    [Fact]
    public async Task ListsWithTwoFilterValuesAndSortsByTwoKeys()
    {
        var hub = Client(http);
        var industries = await hub.V1.Industries.GetAsync(r => { r.QueryParameters.Zone = ["lingang", "west-bund"]; r.QueryParameters.Limit = 100; });
        var ids = industries!.Items!.Select(i => i.Id).ToList();
        Assert.Contains("integrated-circuits", ids); // in Lingang, not in the West Bund
        Assert.Contains("media", ids);               // in the West Bund only
        Assert.DoesNotContain("biomedicine", ids);
        Assert.All(industries.Items!, i => Assert.True(i.Zones!.Intersect(["lingang", "west-bund"]).Any()));

        var zones = await hub.V1.Zones.GetAsync(r => { r.QueryParameters.SortAsZoneSortKey = [ZoneSortKey.District, ZoneSortKey.Minus_name]; r.QueryParameters.Limit = 100; });
        var items = zones!.Items!;
        Assert.Equal(items.OrderBy(z => z.District, StringComparer.Ordinal).ThenByDescending(z => z.Name, StringComparer.Ordinal).Select(z => z.Id), items.Select(z => z.Id));
        Assert.True(items.Select(z => z.District).Distinct().Count() > 1);
    }

    [Fact]
    public async Task PagesToTheEndByCursorEachRecordOnceAndCounts()
    {
        var hub = Client(http);
        var first = await hub.V1.Industries.GetAsync(r => { r.QueryParameters.Limit = 3; r.QueryParameters.Count = true; r.QueryParameters.SortAsIndustrySortKey = [IndustrySortKey.Name]; });
        Assert.True(first!.Total > 3);
        var seen = first.Items!.Select(i => i.Id).ToList();
        for (var cursor = first.Next; cursor is not null;)
        {
            var page = await hub.V1.Industries.GetAsync(r => { r.QueryParameters.Limit = 3; r.QueryParameters.Cursor = cursor; r.QueryParameters.SortAsIndustrySortKey = [IndustrySortKey.Name]; });
            seen.AddRange(page!.Items!.Select(i => i.Id));
            cursor = page.Next;
            Assert.True(seen.Count <= first.Total);
        }
        Assert.Equal(first.Total, seen.Count);
        Assert.Equal(seen.Count, seen.Distinct().Count());
    }

    [Fact]
    public async Task GetsByIdAndIncludesRelatedRecords()
    {
        var hub = Client(http);
        var smic = await hub.V1.Firms["smic"].GetAsync();
        Assert.Equal("Semiconductor Manufacturing International Corporation", smic!.Name);
        Assert.Equal("lingang", smic.Zone);
        Assert.NotEmpty(smic.Citations!);

        var firms = await hub.V1.Firms.GetAsync(r => { r.QueryParameters.IncludeAsFirmRelation = [FirmRelation.Zone, FirmRelation.Industries]; r.QueryParameters.Limit = 100; });
        var embedded = firms!.Items!.Single(f => f.Id == "smic").Embedded!;
        Assert.Equal("Lingang", embedded.Zone!.Name);
        Assert.Contains(embedded.Industries!, i => i.Id == "integrated-circuits" && i.Strategic == true);
    }

    [Fact]
    public async Task AnUnknownIdIsA404Problem()
    {
        var problem = await Assert.ThrowsAsync<ProblemDetails>(() => Client(http).V1.Firms["no-such-firm"].GetAsync());
        Assert.Equal(404, problem.ResponseStatusCode);
        Assert.Equal(404, problem.Status);
        Assert.Contains("no-such-firm", problem.Detail);
    }

    [Fact]
    public async Task ExportsCsv()
    {
        await using var csv = await Client(http).V1.FirmsCsv.GetAsync(r => { r.QueryParameters.Zone = ["lingang"]; r.QueryParameters.FieldsAsFirmField = [FirmField.Name]; });
        using var reader = new StreamReader(csv!);
        var lines = (await reader.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,name", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("smic,"));
    }

    [Fact]
    public async Task CreatesAndPatchesWithIfMatchAndTheFeedTellsEachStep()
    {
        var hub = Client(keyed);
        long after = 0;
        for (var more = true; more;)
        {
            var page = await hub.V1.Changes.GetAsync(r => { r.QueryParameters.After = after; r.QueryParameters.Limit = 1000; });
            after = page!.Items!.LastOrDefault()?.Seq ?? after;
            more = page.Next is not null;
        }

        var id = "kiota-" + Guid.NewGuid().ToString("N")[..8];
        // Kiota hands response headers over through its headers inspection option.
        var createdHeaders = new HeadersInspectionHandlerOption { InspectResponseHeaders = true };
        var created = await hub.V1.Industries.PostAsync(new IndustryInput { Id = id, Name = "Quantum computing", Strategic = false }, r =>
        {
            r.Headers.Add("Idempotency-Key", Guid.NewGuid().ToString());
            r.Options.Add(createdHeaders);
        });
        Assert.Equal(1, created!.Version);
        var etag = createdHeaders.ResponseHeaders["ETag"].Single();

        var patched = await hub.V1.Industries[id].PatchAsync(new IndustryPatch { Description = "Patched through Kiota." }, r => r.Headers.Add("If-Match", etag));
        Assert.Equal(2, patched!.Version);
        Assert.Equal("Patched through Kiota.", patched.Description);
        var stale = await Assert.ThrowsAsync<ProblemDetails>(() =>
            hub.V1.Industries[id].PatchAsync(new IndustryPatch { Description = "A lost update." }, r => r.Headers.Add("If-Match", etag)));
        Assert.Equal(412, stale.ResponseStatusCode);

        var changes = await hub.V1.Changes.GetAsync(r => { r.QueryParameters.After = after; r.QueryParameters.ResourceAsResourceName = [ResourceName.Industries]; });
        Assert.Equal([(ChangeOp.Created, 1L), (ChangeOp.Updated, 2L)], changes!.Items!.Where(c => c.Id == id).Select(c => (c.Op!.Value, c.Version!.Value)));
    }
}
