using System.Net;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>The collection query language: filters, sort, paging, count, fields, include, search, facets, export.</summary>
public sealed class QueryTests : ApiTest
{
    private static string Ids(JsonNode page) => string.Join(",", page.Ids());

    [Theory]
    [InlineData("/v1/firms?zone=lingang", "smic")]
    [InlineData("/v1/firms?zone=zhangjiang", "")]
    [InlineData("/v1/firms?zone=zhangjiang,lingang", "smic")]
    [InlineData("/v1/firms?industry=integrated-circuits,artificial-intelligence", "smic")]
    [InlineData("/v1/firms?industry=biomedicine", "")]
    [InlineData("/v1/zones?industry=artificial-intelligence", "lingang,west-bund")]
    [InlineData("/v1/zones?district=Pudong%20New%20Area", "lingang,zhangjiang")]
    [InlineData("/v1/zones?district=Xuhui%20District,Pudong%20New%20Area&industry=media", "west-bund")]
    [InlineData("/v1/industries?strategic=true&zone=lingang", "artificial-intelligence,integrated-circuits")]
    [InlineData("/v1/industries?strategic=false&zone=zhangjiang", "")]
    [InlineData("/v1/targets?deadlineFrom=2025&deadlineTo=2025", "digitalized-hospitals,intelligent-factories")]
    [InlineData("/v1/targets?deadlineFrom=2026", "global-digital-hub")]
    [InlineData("/v1/targets?valueMin=100", "intelligent-factories")]
    [InlineData("/v1/targets?valueMax=100", "digitalized-hospitals")]
    [InlineData("/v1/projects?investmentUsdMin=8900000000&investmentUsdMax=8.9e9", "smic-lingang-wafer-plant")]
    [InlineData("/v1/projects?investmentUsdMin=9000000000", "")]
    [InlineData("/v1/projects?firm=smic&zone=lingang", "smic-lingang-wafer-plant")]
    [InlineData("/v1/facilities?kind=lab", "alzheimers-drug-lab")]
    [InlineData("/v1/facilities?zone=zhangjiang&kind=synchrotron%20research%20center", "ssrf")]
    [InlineData("/v1/services?area=urban-management", "bus-arrival-forecast,covid-color-code")]
    [InlineData("/v1/services?area=economy,daily-life&sort=id", "5g-and-fiber-networks,elderly-taxi-hailing,electronic-payments,mobile-nucleic-acid-test-bus")]
    [InlineData("/v1/indicators?zone=zhangjiang", "star-listed-chip-firms-zhangjiang")]
    [InlineData("/v1/indicators?valueMin=10", "national-research-labs")]
    [InlineData("/v1/sources?author=Zhu%20Shenshen", "shanghai-digital-hub")]
    [InlineData("/v1/sources?section=Biz%20/%20Tech", "shanghai-digital-hub")]
    [InlineData("/v1/zones/west-bund/industries?strategic=true", "artificial-intelligence")]
    public async Task FiltersSelectMatchingRecords(string url, string expected) =>
        Assert.Equal(expected, Ids(await Client.Json(url)));

    [Theory]
    [InlineData("/v1/zones?sort=name", "lingang,west-bund,zhangjiang")]
    [InlineData("/v1/zones?sort=-name", "zhangjiang,west-bund,lingang")]
    [InlineData("/v1/zones?sort=district,-name", "zhangjiang,lingang,west-bund")]
    [InlineData("/v1/zones?sort=-district,name", "west-bund,lingang,zhangjiang")]
    [InlineData("/v1/targets?sort=deadline,-value", "intelligent-factories,digitalized-hospitals,global-digital-hub")]
    [InlineData("/v1/targets?sort=value", "global-digital-hub,digitalized-hospitals,intelligent-factories")]
    [InlineData("/v1/targets?sort=-value", "intelligent-factories,digitalized-hospitals,global-digital-hub")]
    [InlineData("/v1/indicators?sort=-value", "national-research-labs,star-listed-chip-firms-zhangjiang")]
    [InlineData("/v1/industries?strategic=true&sort=-id", "integrated-circuits,biomedicine,artificial-intelligence")]
    [InlineData("/v1/industries?sort=-strategic,id&limit=4", "artificial-intelligence,biomedicine,integrated-circuits,art")]
    public async Task SortOrdersByAllowedFieldsWithIdAsTieBreaker(string url, string expected) =>
        Assert.Equal(expected, Ids(await Client.Json(url)));

    [Theory]
    [InlineData("sort=name")]
    [InlineData("sort=-name")]
    [InlineData("sort=-strategic")]
    [InlineData("sort=strategic,-name")]
    [InlineData("sort=-createdAt,name&strategic=false")]
    [InlineData("q=firms")]
    [InlineData("q=firms&sort=-name")]
    public async Task PagingWalksEverySortAndFilterExactlyOnce(string query)
    {
        var all = Ids(await Client.Json($"/v1/industries?limit=100&{query}"));
        var walked = (await Client.Walk($"/v1/industries?limit=1&{query}")).Select(i => i["id"]!.GetValue<string>());
        Assert.Equal(all, string.Join(",", walked));
    }

    [Fact]
    public async Task CountAddsTotalOfAllMatches()
    {
        var page = await Client.Json("/v1/industries?strategic=false&limit=2&count=true");
        Assert.Equal(5, page["total"]!.GetValue<long>());
        Assert.Equal(2, page["items"]!.AsArray().Count);
        Assert.Null((await Client.Json("/v1/industries?limit=2"))["total"]);
        Assert.Equal(2, (await Client.Json("/v1/zones?q=chip&count=true"))["total"]!.GetValue<long>());
    }

    [Fact]
    public async Task FieldsSelectPropertiesAndAlwaysKeepId()
    {
        var page = await Client.Json("/v1/zones?fields=name,district");
        foreach (var item in page["items"]!.AsArray())
            Assert.Equal(["id", "name", "district"], item!.AsObject().Select(p => p.Key));
        var one = await Client.Json("/v1/firms?fields=citations");
        Assert.Equal(["id", "citations"], one["items"]![0]!.AsObject().Select(p => p.Key));
    }

    [Fact]
    public async Task IncludeEmbedsRelatedRecordsBesideTheirIds()
    {
        var page = await Client.Json("/v1/firms?include=zone,industries");
        var firm = page["items"]![0]!;
        Assert.Equal("lingang", firm["zone"]!.GetValue<string>());
        Assert.Equal("Lingang", firm["embedded"]!["zone"]!["name"]!.GetValue<string>());
        Assert.Equal("Pudong New Area", firm["embedded"]!["zone"]!["district"]!.GetValue<string>());
        Assert.True(firm["embedded"]!["industries"]![0]!["strategic"]!.GetValue<bool>());
        Assert.Equal(firm["industries"]!.AsArray().Select(i => i!.GetValue<string>()),
            firm["embedded"]!["industries"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));

        var projects = await Client.Json("/v1/firms/smic/projects?include=firm");
        Assert.Equal("smic", projects["items"]![0]!["embedded"]!["firm"]!["id"]!.GetValue<string>());
        Assert.Equal("lingang", projects["items"]![0]!["zone"]!.GetValue<string>());
        Assert.Null(projects["items"]![0]!["embedded"]!["zone"]);

        var zones = await Client.Json("/v1/zones?include=industries&fields=industries&sort=name&limit=1");
        Assert.Equal(["artificial-intelligence", "integrated-circuits"],
            zones["items"]![0]!["embedded"]!["industries"]!.AsArray().Select(i => i!["id"]!.GetValue<string>()));
        Assert.Null((await Client.Json("/v1/zones?limit=1"))["items"]![0]!["embedded"]);
    }

    [Theory]
    [InlineData("/v1/zones?q=chip", "lingang,zhangjiang")]
    [InlineData("/v1/zones?q=Chip", "lingang,zhangjiang")]
    [InlineData("/v1/facilities?q=synchro", "ssrf")]
    [InlineData("/v1/facilities?q=Light%20Source", "ssrf")]
    [InlineData("/v1/firms?q=wafer%20plant", "smic")]
    [InlineData("/v1/services?q=e-yuan", "electronic-payments")]
    [InlineData("/v1/zones?q=chip&sort=-name", "zhangjiang,lingang")]
    [InlineData("/v1/zones?q=nothing-like-this", "")]
    public async Task SearchMatchesNamesDescriptionsAndQuotes(string url, string expected)
    {
        var ids = (await Client.Json(url)).Ids();
        // Without sort the order is relevance; compare the set. With sort, the order itself.
        Assert.Equal(expected, string.Join(",", url.Contains("sort=") ? ids : ids.Order(StringComparer.Ordinal)));
    }

    [Theory]
    [InlineData("\"")]
    [InlineData("AND")]
    [InlineData("OR NOT")]
    [InlineData("NEAR(a b)")]
    [InlineData("chip*")]
    [InlineData("name:chip")]
    [InlineData("^chip")]
    [InlineData("(((")]
    [InlineData("'; drop table firms; --")]
    [InlineData("\u0000")]
    [InlineData("中文 搜索")]
    [InlineData("   ")]
    public async Task SearchTextIsLiteralNeverAnError(string q)
    {
        var page = await Client.Json("/v1/zones?q=" + Uri.EscapeDataString(q));
        Assert.NotNull(page["items"]);
        Assert.Equal(3, (await Client.Json("/v1/zones")).Ids().Count());
    }

    [Fact]
    public async Task FacetsCountPerValueUnderTheListFilters()
    {
        var facets = await Client.Json("/v1/industries/facets?by=strategic,zone");
        Assert.Equal(3, facets["strategic"]!.AsArray().Single(f => f!["value"]!.GetValue<string>() == "true")!["count"]!.GetValue<long>());
        Assert.Equal(6, facets["zone"]!.AsArray().Single(f => f!["value"]!.GetValue<string>() == "west-bund")!["count"]!.GetValue<long>());

        var filtered = await Client.Json("/v1/industries/facets?by=zone&strategic=true");
        Assert.Equal("lingang:2,west-bund:1,zhangjiang:1",
            string.Join(",", filtered["zone"]!.AsArray().Select(f => $"{f!["value"]}:{f["count"]}")));

        var services = await Client.Json("/v1/services/facets?by=area&q=bus");
        Assert.Equal("daily-life:1,urban-management:1",
            string.Join(",", services["area"]!.AsArray().Select(f => $"{f!["value"]}:{f["count"]}")));
    }

    [Theory]
    [InlineData("/v1/industries/facets")]
    [InlineData("/v1/industries/facets?by=name")]
    [InlineData("/v1/industries/facets?by=zone&limit=3")]
    [InlineData("/v1/industries/facets?by=zone&sort=name")]
    public async Task BadFacetRequestsAre400(string url) => await Client.Problem(url, HttpStatusCode.BadRequest);

    /// <summary>
    /// Lists are sent either way: repeated (`zone=a&amp;zone=b`, OpenAPI's default, what generated clients send) or
    /// comma-separated, or both; the answers, ETags and cursors are the same.
    /// </summary>
    [Theory]
    [InlineData("/v1/firms?zone=lingang&zone=zhangjiang&sort=-name&sort=id&limit=2", "/v1/firms?zone=lingang,zhangjiang&sort=-name,id&limit=2")]
    [InlineData("/v1/firms?zone=lingang&zone=zhangjiang,west-bund&include=zone&include=industries", "/v1/firms?zone=lingang,zhangjiang,west-bund&include=zone,industries")]
    [InlineData("/v1/zones/facets?by=district&by=industry", "/v1/zones/facets?by=district,industry")]
    [InlineData("/v1/changes?resource=firms&resource=zones", "/v1/changes?resource=firms,zones")]
    public async Task RepeatedListParametersReadAsCommaSeparatedOnes(string repeated, string commas)
    {
        using var one = await Client.GetAsync(repeated);
        using var other = await Client.GetAsync(commas);
        Assert.Equal(HttpStatusCode.OK, one.StatusCode);
        Assert.Equal(await other.Content.ReadAsStringAsync(), await one.Content.ReadAsStringAsync());
        Assert.Equal(other.Headers.ETag, one.Headers.ETag);
    }

    [Fact]
    public async Task ExportsHaveUrlsOfTheirOwn()
    {
        using var csv = await Client.GetAsync("/v1/industries.csv?sort=name&fields=name&fields=strategic&fields=zones");
        Assert.Equal(HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal("text/csv", csv.Content.Headers.ContentType!.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,name,strategic,zones", lines[0]);
        Assert.Equal(9, lines.Length); // the header and all eight industries
        Assert.Contains("integrated-circuits,Integrated circuits,true,lingang;zhangjiang", lines);

        using var ndjson = await Client.GetAsync("/v1/firms.ndjson?zone=lingang&zone=zhangjiang&sort=id");
        Assert.Equal("application/x-ndjson", ndjson.Content.Headers.ContentType!.MediaType);
        var firms = (await ndjson.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var page = await Client.Json("/v1/firms?zone=lingang,zhangjiang&sort=id&limit=100");
        Assert.Equal(page["items"]!.AsArray().Select(f => f!["id"]!.GetValue<string>()), firms.Select(f => f["id"]!.GetValue<string>()));
    }

    [Fact]
    public async Task CsvExportStreamsEveryMatchingRecordWithAHeader()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/industries?sort=name&limit=2&fields=name,strategic,zones");
        request.Headers.Add("Accept", "text/csv");
        using var response = await Client.SendAsync(request);
        Assert.Equal("text/csv", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("id,name,strategic,zones", lines[0]);
        Assert.Equal(9, lines.Length); // the header and all eight industries, not one page of two
        Assert.Contains("integrated-circuits,Integrated circuits,true,lingang;zhangjiang", lines);
    }

    [Fact]
    public async Task CsvQuotesCellsWithCommasAndQuotes()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/facilities?fields=description&sort=id");
        request.Headers.Add("Accept", "text/csv");
        using var response = await Client.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();
        Assert.Contains("ssrf,\"China's largest synchrotron research center, often called \"\"Shanghai's Light Source\"\"", text);
    }

    [Fact]
    public async Task NdjsonExportIsOneRecordPerLine()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/services?area=economy,daily-life&sort=-name");
        request.Headers.Add("Accept", "application/x-ndjson");
        using var response = await Client.SendAsync(request);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType!.MediaType);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(4, lines.Length);
        var records = lines.Select(l => JsonNode.Parse(l)!).ToList();
        Assert.All(records, r => Assert.NotEmpty(r["citations"]!.AsArray()));
        Assert.Equal(records.Select(r => r["name"]!.GetValue<string>()).OrderByDescending(n => n, StringComparer.Ordinal),
            records.Select(r => r["name"]!.GetValue<string>()));
    }

    /// <summary>
    /// Exports are encoded straight into the response and flushed every 32 KiB or so: enough awkward text to cross
    /// several flushes comes back whole, CSV quoted per RFC 4180 and each NDJSON line exactly the record GET serves.
    /// </summary>
    [Fact]
    public async Task ExportsCarryQuotesLineBreaksAndNonAsciiTextWholeAcrossFlushes()
    {
        const string key = "test-admin-key-0123456789";
        Factory.With("Auth:AdminKey", key);
        var written = new Dictionary<string, string>();
        for (var i = 0; i < 60; i++)
        {
            // A comma, quotes, CR, LF, 2- to 4-byte UTF-8 and a surrogate pair, at a different offset in every record.
            var description = new string('x', i) + string.Concat(Enumerable.Repeat("上海, \"café\" 😀\r\nnext\rline\n", 70));
            var body = System.Text.Json.JsonSerializer.Serialize(new { name = $"Export test {i}", description, industries = new[] { "integrated-circuits" } });
            using var created = await Client.Send(HttpMethod.Post, "/v1/firms", body, key);
            written[(await created.Expect(HttpStatusCode.Created))["id"]!.GetValue<string>()] = description;
        }

        using var csvRequest = new HttpRequestMessage(HttpMethod.Get, "/v1/firms?fields=description,industries&sort=id");
        csvRequest.Headers.Add("Accept", "text/csv");
        using var csvResponse = await Client.SendAsync(csvRequest);
        var csv = await csvResponse.Content.ReadAsByteArrayAsync();
        Assert.True(csv.Length > 4 * 32 * 1024, $"only {csv.Length} bytes: too few to cross several flushes");
        var text = System.Text.Encoding.UTF8.GetString(csv);
        Assert.StartsWith("id,description,industries\r\n", text);
        foreach (var (id, description) in written)
            Assert.Contains($"\r\n{id},\"{description.Replace("\"", "\"\"")}\",integrated-circuits\r\n", text);

        using var ndjsonRequest = new HttpRequestMessage(HttpMethod.Get, "/v1/firms?sort=id");
        ndjsonRequest.Headers.Add("Accept", "application/x-ndjson");
        using var ndjsonResponse = await Client.SendAsync(ndjsonRequest);
        var ndjson = await ndjsonResponse.Content.ReadAsStringAsync();
        Assert.EndsWith("}\n", ndjson);
        var lines = ndjson[..^1].Split('\n');
        Assert.Equal(written.Count + 1, lines.Length); // and the seeded SMIC
        foreach (var line in lines)
        {
            var id = JsonNode.Parse(line)!["id"]!.GetValue<string>();
            using var record = await Client.GetAsync($"/v1/firms/{id}");
            Assert.Equal(await record.Content.ReadAsStringAsync(), line);
        }
    }

    /// <summary>Malformed and hostile queries: each a 400 problem naming the parameter.</summary>
    [Theory]
    [InlineData("/v1/firms?zone=Lingang", "zone")]
    [InlineData("/v1/firms?zone=", "zone")]
    [InlineData("/v1/firms?zone=lingang;drop%20table%20firms", "zone")]
    [InlineData("/v1/firms?zone=lingang'%20or%20'1'='1", "zone")]
    [InlineData("/v1/firms?industry=a,,b", "industry")]
    [InlineData("/v1/firms?sort=founded", "sort")]
    [InlineData("/v1/firms?sort=name;drop%20table%20firms", "sort")]
    [InlineData("/v1/firms?sort=name,name", "sort")]
    [InlineData("/v1/firms?sort=--name", "sort")]
    [InlineData("/v1/firms?sort=", "sort")]
    [InlineData("/v1/firms?fields=secret", "fields")]
    [InlineData("/v1/firms?fields=id,(select%201)", "fields")]
    [InlineData("/v1/firms?include=projects", "include")]
    [InlineData("/v1/firms?include=zone,zone", "include")]
    [InlineData("/v1/industries?strategic=yes", "strategic")]
    [InlineData("/v1/industries?strategic=", "strategic")]
    [InlineData("/v1/industries?count=1", "count")]
    [InlineData("/v1/targets?deadlineFrom=soon", "deadlineFrom")]
    [InlineData("/v1/targets?deadlineFrom=2030.5", "deadlineFrom")]
    [InlineData("/v1/targets?deadlineFrom=2030&deadlineTo=2020", "deadlineFrom")]
    [InlineData("/v1/targets?valueMin=NaN", "valueMin")]
    [InlineData("/v1/targets?valueMin=Infinity", "valueMin")]
    [InlineData("/v1/targets?valueMin=1e999", "valueMin")]
    [InlineData("/v1/projects?investmentUsdMax=lots", "investmentUsdMax")]
    [InlineData("/v1/services?area=nightlife", "area")]
    [InlineData("/v1/firms?deadlineFrom=2020", "deadlineFrom")]
    [InlineData("/v1/firms?Zone=lingang", "Zone")]
    [InlineData("/v1/firms?limit=5&limit=5", "limit")]
    [InlineData("/v1/firms?q=chip&q=wafer", "q")]
    [InlineData("/v1/industries?strategic=true&strategic=false", "strategic")]
    [InlineData("/v1/changes?after=1&after=2", "after")]
    [InlineData("/v1/firms?zone=lingang&zone=Lingang", "zone")]
    [InlineData("/v1/firms?sort=name&sort=-name", "sort")]
    [InlineData("/v1/firms.csv?limit=5", "limit")]
    [InlineData("/v1/firms.ndjson?include=zone", "include")]
    [InlineData("/v1/firms?limit=1000000", "limit")]
    [InlineData("/v1/firms?limit=0x10", "limit")]
    [InlineData("/v1/firms?limit=%201", "limit")]
    [InlineData("/v1/zones/lingang/firms?sort=bogus", "sort")]
    public async Task MalformedQueriesAre400ProblemsNamingTheParameter(string url, string parameter)
    {
        var problem = await Client.Problem(url, HttpStatusCode.BadRequest);
        var errors = problem["errors"]!.AsObject();
        Assert.True(errors.ContainsKey(parameter), $"errors should name '{parameter}': {errors.ToJsonString()}");
    }

    [Fact]
    public async Task ErrorsListWhatIsAllowed()
    {
        var problem = await Client.Problem("/v1/zones?sort=size", HttpStatusCode.BadRequest);
        var message = problem["errors"]!["sort"]![0]!.GetValue<string>();
        Assert.Contains("Allowed: id, name, district, createdAt, updatedAt", message);
    }

    [Fact]
    public async Task OverlongInputIsRefusedNotEchoed()
    {
        var huge = new string('x', 5000);
        var problem = await Client.Problem($"/v1/zones?q={huge}", HttpStatusCode.BadRequest);
        Assert.DoesNotContain(huge, problem.ToJsonString());
        await Client.Problem($"/v1/zones?district={huge}", HttpStatusCode.BadRequest);
    }
}
