using System.Text.Json.Nodes;
using CsCheck;
using HubApi.Data;
using HubApi.Firms;

namespace HubApi.Tests;

/// <summary>For random filters, sorts and limits, walking all pages equals the full filtered, sorted result.</summary>
public sealed class PagingPropertyTests : ApiTest
{
    private static readonly string[] Words = ["alpha", "beta", "chip", "delta", "wafer", "echo", "Zeta", "lab"];
    private static readonly string[] Zones = ["zhangjiang", "lingang", "west-bund"];
    private static readonly string[] Industries = ["integrated-circuits", "biomedicine", "artificial-intelligence", "media", "art"];

    /// <summary>Adds synthetic firms (names repeat on purpose, so the id tie-breaker matters) through the write path.</summary>
    private async Task AddFirms(int count, int seed, string prefix = "firm")
    {
        var random = new Random(seed);
        var store = (IStore)Factory.Services.GetService(typeof(IStore))!;
        await using var write = await store.BeginWriteAsync("test", CancellationToken.None);
        for (var i = 0; i < count; i++)
        {
            var record = new JsonObject
            {
                ["id"] = $"{prefix}-{seed}-{i:D4}",
                ["name"] = $"{Words[random.Next(Words.Length)]} {Words[random.Next(Words.Length)]}",
                ["description"] = $"{Words[random.Next(Words.Length)]} firm",
                ["zone"] = random.Next(4) == 0 ? null : Zones[random.Next(Zones.Length)],
                ["industries"] = new JsonArray([.. Industries.Where(_ => random.Next(3) == 0).Select(v => (JsonNode)JsonValue.Create(v))]),
                ["citations"] = new JsonArray(),
            };
            write.Insert(FirmsApi.Resource, record);
        }
        // Like any write, the commit retires the cached pages that the new firms change.
        write.Complete([]);
    }

    private Task<List<JsonNode>> Walk(string query, int limit) => Client.Walk($"/v1/firms?limit={limit}&{query}");

    private static readonly Gen<(string[] Zones, string[] Industries, (string Key, bool Desc)[] Sort, int Limit, string? Q)> Queries =
        Gen.Select(
            Gen.Int[0, 2].SelectMany(n => Gen.Shuffle(Zones, n)),
            Gen.Int[0, 2].SelectMany(n => Gen.Shuffle(Industries, n)),
            Gen.Int[0, 3].SelectMany(n => Gen.Shuffle(new[] { "name", "id", "createdAt", "updatedAt" }, n))
                .SelectMany(keys => Gen.Bool.Array[keys.Length].Select(desc => keys.Zip(desc).ToArray())),
            Gen.OneOf(Gen.Int[1, 7], Gen.Int[1, 100]),
            Gen.OneOf(Gen.Const((string?)null), Gen.OneOfConst(Words).Select(w => (string?)w)));

    [Fact]
    public async Task WalkingAllPagesEqualsTheFullFilteredSortedResult()
    {
        await AddFirms(120, seed: 7);
        var everything = await Walk("", 100);
        Assert.Equal(121, everything.Count);

        await Queries.SampleAsync(async query =>
        {
            var parameters = new List<string>();
            if (query.Zones.Length > 0) parameters.Add("zone=" + string.Join(",", query.Zones));
            if (query.Industries.Length > 0) parameters.Add("industry=" + string.Join(",", query.Industries));
            if (query.Sort.Length > 0) parameters.Add("sort=" + string.Join(",", query.Sort.Select(s => (s.Desc ? "-" : "") + s.Key)));
            if (query.Q is not null) parameters.Add("q=" + query.Q);
            var walked = await Walk(string.Join("&", parameters), query.Limit);
            var walkedIds = walked.Select(i => i["id"]!.GetValue<string>()).ToList();
            Assert.Equal(walkedIds.Count, walkedIds.Distinct().Count());

            var expected = everything.Where(i =>
                (query.Zones.Length == 0 || query.Zones.Contains(i["zone"]?.GetValue<string>())) &&
                (query.Industries.Length == 0 || i["industries"]!.AsArray().Any(x => query.Industries.Contains(x!.GetValue<string>()))) &&
                (query.Q is null || (i["name"] + " " + i["description"]).Contains(query.Q, StringComparison.OrdinalIgnoreCase)));
            if (query.Q is not null && query.Sort.Length == 0)
            {
                // Relevance order is the engine's; the set must still be exact.
                Assert.Equal(expected.Select(i => i["id"]!.GetValue<string>()).Order(), walkedIds.Order());
                return;
            }
            IOrderedEnumerable<JsonNode> ordered = expected.OrderBy(_ => 0);
            foreach (var (key, desc) in query.Sort)
            {
                ordered = desc
                    ? ordered.ThenByDescending(i => i[key]!.GetValue<string>(), StringComparer.Ordinal)
                    : ordered.ThenBy(i => i[key]!.GetValue<string>(), StringComparer.Ordinal);
            }
            if (!query.Sort.Any(s => s.Key == "id")) ordered = ordered.ThenBy(i => i["id"]!.GetValue<string>(), StringComparer.Ordinal);
            Assert.Equal(ordered.Select(i => i["id"]!.GetValue<string>()), walkedIds);
        }, seed: "0N0XIzNsQ0O2", iter: 60, threads: 1);
    }

    [Fact]
    public async Task RecordsAddedWhileWalkingDoNotCauseRepeatsOrSkips()
    {
        await AddFirms(40, seed: 3);
        var before = (await Walk("sort=name", 100)).Select(i => i["id"]!.GetValue<string>()).ToHashSet();

        var seen = new List<string>();
        var url = "/v1/firms?sort=name&limit=7";
        var page = await Client.Json(url);
        var round = 0;
        while (true)
        {
            seen.AddRange(page.Ids());
            await AddFirms(5, seed: 100 + round++, prefix: "late"); // names spread before and after the cursor
            if (page["next"]?.GetValue<string>() is not { } next) break;
            page = await Client.Json($"{url}&cursor={Uri.EscapeDataString(next)}");
        }
        Assert.Equal(seen.Count, seen.Distinct().Count());
        Assert.Subset(seen.ToHashSet(), before);
    }
}
