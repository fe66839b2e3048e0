using System.Net;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>`HubApi import`, run as an operator runs it: the real binary, on a database of its own.</summary>
public sealed class ImportTests : WriteTest
{
    private async Task<Dictionary<string, List<JsonObject>>> Records(HttpClient client, bool withoutCitations)
    {
        var all = new Dictionary<string, List<JsonObject>>();
        foreach (var resource in Catalog.Resources.All)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/{resource.Name}");
            request.Headers.Accept.ParseAdd("application/x-ndjson");
            using var response = await client.SendAsync(request);
            response.EnsureSuccessStatusCode();
            var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            all[resource.Name] = [.. lines.Select(line =>
            {
                var record = JsonNode.Parse(line)!.AsObject();
                foreach (var owned in HubApi.Resources.Resource.ServerOwned) record.Remove(owned);
                if (withoutCitations) record["citations"] = new JsonArray();
                return record;
            })];
        }
        return all;
    }

    [Theory]
    [InlineData("ndjson")]
    [InlineData("csv")]
    public async Task AnExportImportedIntoAnEmptyDatabaseGivesBackTheSameRecords(string format)
    {
        // Text that CSV must quote, and numbers and booleans of every kind.
        (await Post("/v1/firms", """{"name":"Quotes \"and\", commas\r\nand lines, 上海","zone":"lingang","industries":["integrated-circuits","media"],"description":"; not a list"}""")).EnsureSuccessStatusCode();
        (await Post("/v1/projects", """{"name":"Odd figures","firm":"smic","investmentUsd":0.1}""")).EnsureSuccessStatusCode();
        (await Post("/v1/industries", """{"name":"Quiet industry","strategic":false}""")).EnsureSuccessStatusCode();
        var folder = Directory.CreateTempSubdirectory("hubapi-import-").FullName;
        var target = TestDatabase.NewName("import");
        try
        {
            foreach (var resource in Catalog.Resources.All)
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, $"/v1/{resource.Name}");
                request.Headers.Accept.ParseAdd(format == "csv" ? "text/csv" : "application/x-ndjson");
                using var export = await Client.SendAsync(request);
                await File.WriteAllBytesAsync(Path.Combine(folder, $"{resource.Name}.{format}"), await export.Content.ReadAsByteArrayAsync());
            }

            TestDatabase.Create(target, empty: true);
            foreach (var resource in Catalog.Resources.All)
            {
                var (code, output) = await ServerProcess.RunAsync(target, "import", resource.Name, Path.Combine(folder, $"{resource.Name}.{format}"));
                Assert.True(code == 0, output);
                Assert.Contains("written", output); // the progress line
            }

            var expected = await Records(Client, withoutCitations: format == "csv");
            using var imported = new HubApiFactory(target);
            using var client = imported.CreateClient();
            var actual = await Records(client, withoutCitations: false);
            foreach (var (resource, records) in expected)
            {
                Assert.True(records.Count > 0, resource);
                Assert.Equal(records.Select(r => r.ToJsonString()), actual[resource].Select(r => r.ToJsonString()));
            }
            var by = await client.Json("/v1/changes?after=0&limit=1");
            Assert.Equal("cli", by["items"]![0]!["by"]!.GetValue<string>());
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Fact]
    public async Task ABadRowRefusesTheImportWholeNamingTheRow()
    {
        var folder = Directory.CreateTempSubdirectory("hubapi-import-").FullName;
        var file = Path.Combine(folder, "services.ndjson");
        await File.WriteAllTextAsync(file, "{\"name\":\"Good one\"}\n{\"name\":\"\"}\n");
        _ = Client;
        var (code, output) = await ServerProcess.RunAsync(Factory.DatabasePath, "import", "services", file);
        Assert.Equal(1, code);
        Assert.Contains("[1].name", output);
        await Client.Problem("/v1/services/good-one", HttpStatusCode.NotFound);
        Directory.Delete(folder, recursive: true);
    }
}
