using System.Text.Json;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

public sealed class ContractTests : ApiTest
{
    [Fact]
    public async Task ServedDocumentEqualsCommittedOpenApiYaml()
    {
        var served = await Client.GetByteArrayAsync("/swagger/v1/swagger.yaml");
        var committed = await File.ReadAllBytesAsync(Path.Combine(Repo.Root, "openapi.yaml"));
        Assert.True(served.AsSpan().SequenceEqual(committed),
            "openapi.yaml differs from the served document: regenerate it with `dotnet run --project src/HubApi -- openapi openapi.yaml`.");
    }

    [Fact]
    public async Task JsonDocumentIsServedToo()
    {
        using var doc = JsonDocument.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"));
        Assert.Equal("3.0.4", doc.RootElement.GetProperty("openapi").GetString());
        var operationIds = doc.RootElement.GetProperty("paths").EnumerateObject()
            .SelectMany(p => p.Value.EnumerateObject()).Select(o => o.Value.GetProperty("operationId").GetString()).ToList();
        Assert.Equal(operationIds.Count, operationIds.Distinct().Count());
        Assert.Contains("ListFirms", operationIds);
        Assert.Contains("GetFirm", operationIds);
        Assert.Contains("ListZoneFirms", operationIds);
    }

    [Fact]
    public async Task SwaggerUiIsServed()
    {
        var html = await Client.GetStringAsync("/swagger/index.html");
        Assert.Contains("swagger-ui", html);
    }

    /// <summary>
    /// Records are written straight from rows, and their schemas are built from the resource descriptors: this holds the
    /// two together. Every served record, without and with its related records embedded, is valid against its schema
    /// in the served document and has exactly the schema's properties, in the schema's order.
    /// </summary>
    [Fact]
    public async Task EveryServedRecordMatchesItsSchema()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
        var validator = new SchemaValidator(document);
        var schemas = document["components"]!["schemas"]!;
        foreach (var resource in Catalog.Resources.All)
        {
            var schema = schemas[resource.SingularTitle]!;
            var properties = schema["properties"]!.AsObject().Select(p => p.Key).ToList();
            var urls = new List<string> { $"/v1/{resource.Name}?limit=100" };
            if (resource.IncludeNames.Count > 0) urls.Add($"/v1/{resource.Name}?limit=100&include={string.Join(',', resource.IncludeNames)}");
            foreach (var url in urls)
            {
                var records = await Client.Walk(url);
                Assert.NotEmpty(records);
                foreach (var record in records)
                {
                    var errors = validator.Validate(record, schema);
                    Assert.True(errors.Count == 0, $"{url}: {string.Join("; ", errors)}");
                    // `embedded` only with include.
                    Assert.Equal(properties.Where(p => p != "embedded" || url.Contains("include=")), record.AsObject().Select(p => p.Key));
                }
            }
        }
    }
}
