using HubApi.NSwag;

namespace HubApi.NSwag
{
    /// <summary>
    /// What a partner adds to the generated client, through the hook NSwag leaves for it: the ETag of the last answer,
    /// the If-Match of the next write (NSwag's default client returns bodies only).
    /// </summary>
    public partial class HubApiClient
    {
        public string? LastETag { get; private set; }

        partial void ProcessResponse(System.Net.Http.HttpClient client, System.Net.Http.HttpResponseMessage response) =>
            LastETag = response.Headers.ETag?.Tag;
    }
}

namespace HubApi.ClientTests
{
    /// <summary>
    /// The partner door through NSwag: the client `nswag openapi2csclient` generates from openapi.yaml at its default
    /// settings (a namespace and a class name given, nothing else), driving the real service.
    /// </summary>
    public sealed class NSwagClientTests(LiveService service) : IClassFixture<LiveService>, IDisposable
    {
        private readonly HttpClient http = service.CreateClient();
        private readonly HttpClient keyed = service.CreateClient(service.AdminKey);

        public void Dispose()
        {
            http.Dispose();
            keyed.Dispose();
        }

        [Fact]
        public async Task ListsWithTwoFilterValuesAndSortsByTwoKeys()
        {
            var hub = new HubApiClient(http);
            var industries = await hub.ListIndustriesAsync(100, null, null, null, null, null, null, null, ["lingang", "west-bund"], null);
            var ids = industries.Items.Select(i => i.Id).ToList();
            Assert.Contains("integrated-circuits", ids); // in Lingang, not in the West Bund
            Assert.Contains("media", ids);               // in the West Bund only
            Assert.DoesNotContain("biomedicine", ids);
            Assert.All(industries.Items, i => Assert.True(i.Zones.Intersect(["lingang", "west-bund"]).Any()));

            var zones = await hub.ListZonesAsync(100, null, [ZoneSortKey.District, ZoneSortKey.NameDescending], null, null, null, null, null, null, null);
            var expected = zones.Items.OrderBy(z => z.District, StringComparer.Ordinal).ThenByDescending(z => z.Name, StringComparer.Ordinal).Select(z => z.Id);
            Assert.Equal(expected, zones.Items.Select(z => z.Id));
            Assert.True(zones.Items.Select(z => z.District).Distinct().Count() > 1);
        }

        [Fact]
        public async Task PagesToTheEndByCursorEachRecordOnceAndCounts()
        {
            var hub = new HubApiClient(http);
            var first = await hub.ListIndustriesAsync(3, null, [IndustrySortKey.Name], null, null, true, null, null, null, null);
            Assert.True(first.Total > 3);
            var seen = first.Items.Select(i => i.Id).ToList();
            for (var cursor = first.Next; cursor is not null;)
            {
                var page = await hub.ListIndustriesAsync(3, cursor, [IndustrySortKey.Name], null, null, null, null, null, null, null);
                seen.AddRange(page.Items.Select(i => i.Id));
                cursor = page.Next;
                Assert.True(seen.Count <= first.Total);
            }
            Assert.Equal(first.Total, seen.Count);
            Assert.Equal(seen.Count, seen.Distinct().Count());
        }

        [Fact]
        public async Task GetsByIdAndIncludesRelatedRecords()
        {
            var hub = new HubApiClient(http);
            var smic = await hub.GetFirmAsync("smic", null, null);
            Assert.Equal("Semiconductor Manufacturing International Corporation", smic.Name);
            Assert.Equal("lingang", smic.Zone);
            Assert.NotEmpty(smic.Citations);
            Assert.Matches("^\"[0-9a-f]{32}\"$", hub.LastETag);

            var firms = await hub.ListFirmsAsync(100, null, null, null, [FirmRelation.Zone, FirmRelation.Industries], null, null, null, null, null);
            var embedded = firms.Items.Single(f => f.Id == "smic").Embedded;
            Assert.Equal("Lingang", embedded.Zone.Name);
            Assert.Contains(embedded.Industries, i => i.Id == "integrated-circuits" && i.Strategic == true);
        }

        [Fact]
        public async Task AnUnknownIdIsA404Problem()
        {
            var problem = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => new HubApiClient(http).GetFirmAsync("no-such-firm", null, null));
            Assert.Equal(404, problem.StatusCode);
            Assert.Equal(404, problem.Result.Status);
            Assert.Contains("no-such-firm", problem.Result.Detail);
        }

        [Fact]
        public async Task ExportsCsv()
        {
            using var csv = await new HubApiClient(http).ExportFirmsCsvAsync([FirmSortKey.Name], [FirmField.Name], null, ["lingang"], null);
            using var reader = new StreamReader(csv.Stream);
            var lines = (await reader.ReadToEndAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal("id,name", lines[0]);
            Assert.Contains(lines, l => l.StartsWith("smic,"));
        }

        [Fact]
        public async Task CreatesAndPatchesWithIfMatchAndTheFeedTellsEachStep()
        {
            var hub = new HubApiClient(keyed);
            // Where a partner's sync stands: the end of the feed.
            long after = 0;
            for (var more = true; more;)
            {
                var page = await hub.ListChangesAsync(after, 1000, null, null);
                after = page.Items.LastOrDefault()?.Seq ?? after;
                more = page.Next is not null;
            }

            var id = "nswag-" + Guid.NewGuid().ToString("N")[..8];
            var created = await hub.CreateIndustryAsync(Guid.NewGuid().ToString(), new IndustryInput { Id = id, Name = "Quantum computing", Strategic = false });
            Assert.Equal(1, created.Version);
            var etag = hub.LastETag!;

            var patched = await hub.PatchIndustryAsync(id, etag, new IndustryPatch { Description = "Patched through NSwag." });
            Assert.Equal(2, patched.Version);
            Assert.Equal("Patched through NSwag.", patched.Description);
            var stale = await Assert.ThrowsAsync<ApiException<ProblemDetails>>(() => hub.PatchIndustryAsync(id, etag, new IndustryPatch { Description = "A lost update." }));
            Assert.Equal(412, stale.StatusCode);

            var changes = await hub.ListChangesAsync(after, 100, [ResourceName.Industries], null);
            Assert.Equal([(ChangeOp.Created, 1L), (ChangeOp.Updated, 2L)], changes.Items.Where(c => c.Id == id).Select(c => (c.Op, c.Version)));
        }
    }
}
