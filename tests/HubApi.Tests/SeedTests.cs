using System.Text.RegularExpressions;

namespace HubApi.Tests;

/// <summary>The dataset carries the article's facts, each with a verbatim quote.</summary>
public sealed class SeedTests : ApiTest
{
    [Fact]
    public async Task EveryQuoteIsFoundInItsSource()
    {
        var source = await Client.Json("/v1/sources/shanghai-digital-hub");
        var text = source["text"]!.GetValue<string>();
        Assert.Equal(await File.ReadAllTextAsync(Path.Combine(Repo.Root, "db", "seed", "article.txt")), text);
        var quotes = 0;
        foreach (var resource in ReadTests.Collections)
        {
            foreach (var item in (await Client.Json($"/v1/{resource}?limit=100"))["items"]!.AsArray())
            {
                foreach (var citation in item!["citations"]!.AsArray())
                {
                    Assert.Equal("shanghai-digital-hub", citation!["source"]!.GetValue<string>());
                    var quote = citation["quote"]!.GetValue<string>();
                    Assert.True(text.Contains(quote, StringComparison.Ordinal), $"{resource}/{item["id"]}: quote not in the article: {quote}");
                    quotes++;
                }
            }
        }
        Assert.True(quotes >= 27);
    }

    [Theory]
    [InlineData("zhangjiang", "Pudong New Area")]
    [InlineData("lingang", "Pudong New Area")]
    [InlineData("west-bund", "Xuhui District")]
    public async Task ZonesCarryTheirDistricts(string zone, string district)
    {
        var record = await Client.Json($"/v1/zones/{zone}");
        Assert.Equal(district, record["district"]!.GetValue<string>());
    }

    [Fact]
    public async Task ThreeStrategicIndustries()
    {
        var page = await Client.Json("/v1/industries?strategic=true&sort=id");
        Assert.Equal(["artificial-intelligence", "biomedicine", "integrated-circuits"], page.Ids());
        var others = (await Client.Json("/v1/industries?strategic=false")).Ids().ToHashSet();
        Assert.Superset(new HashSet<string> { "media", "art", "blockchain", "new-media-creation" }, others);
    }

    [Theory]
    [InlineData("targets", "intelligent-factories", 200.0, "2025", "200 intelligent factories")]
    [InlineData("targets", "digitalized-hospitals", 50.0, "2025", "50 digitalized hospitals")]
    [InlineData("indicators", "national-research-labs", 45.0, null, "45 national research labs")]
    [InlineData("indicators", "star-listed-chip-firms-zhangjiang", 9.0, null, "Nine chip firms headquartered in Zhangjiang")]
    public async Task FiguresComeWithTheirQuotes(string resource, string id, double value, string? deadline, string quoted)
    {
        var record = await Client.Json($"/v1/{resource}/{id}");
        Assert.Equal(value, record["value"]!.GetValue<double>());
        if (deadline is not null) Assert.Equal(long.Parse(deadline), record["deadline"]!.GetValue<long>());
        Assert.Contains(record["citations"]!.AsArray(), c => c!["quote"]!.GetValue<string>().Contains(quoted));
    }

    [Fact]
    public async Task GlobalDigitalHubBy2035()
    {
        var target = await Client.Json("/v1/targets/global-digital-hub");
        Assert.Equal(2035, target["deadline"]!.GetValue<long>());
        Assert.Null(target["value"]);
    }

    [Fact]
    public async Task SmicWaferPlantInLingangWorth89Billion()
    {
        var project = await Client.Json("/v1/projects/smic-lingang-wafer-plant");
        Assert.Equal(8_900_000_000d, project["investmentUsd"]!.GetValue<double>());
        Assert.Contains(project["citations"]!.AsArray(), c => c!["quote"]!.GetValue<string>().Contains("US$8.9 billion"));
        Assert.Contains("partners", project["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task SsrfAndTheAlzheimersLabAreInZhangjiang()
    {
        var ssrf = await Client.Json("/v1/facilities/ssrf");
        Assert.Equal("Shanghai Synchrotron Radiation Facility", ssrf["name"]!.GetValue<string>());
        Assert.Equal("zhangjiang", ssrf["zone"]!.GetValue<string>());
        var lab = await Client.Json("/v1/facilities/alzheimers-drug-lab");
        Assert.Equal("zhangjiang", lab["zone"]!.GetValue<string>());
    }

    [Fact]
    public async Task SixDigitalServicesAcrossThreeAreas()
    {
        var page = await Client.Json("/v1/services?limit=100");
        var services = page["items"]!.AsArray();
        Assert.Equal(6, services.Count);
        Assert.Equal(["daily-life", "economy", "urban-management"],
            services.Select(s => s!["area"]!.GetValue<string>()).Distinct().Order());
        var bus = await Client.Json("/v1/services/bus-arrival-forecast");
        Assert.Matches(new Regex("over 97 percent"), bus["figure"]!.GetValue<string>());
    }

    [Fact]
    public async Task NoInventedFirms()
    {
        var firms = await Client.Json("/v1/firms?limit=100");
        Assert.Equal(["smic"], firms.Ids());
    }
}
