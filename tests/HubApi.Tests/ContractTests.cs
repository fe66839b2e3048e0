using System.Text.Json;
using System.Text.Json.Serialization;
using HubApi.Resources;

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

    private static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web)
    {
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        RespectNullableAnnotations = true,
        RespectRequiredConstructorParameters = true,
    };

    /// <summary>Records are written straight from rows; the typed records are the contract. This holds them together.</summary>
    [Fact]
    public async Task EveryServedRecordMatchesItsTypedContract()
    {
        foreach (var resource in Catalog.Resources.All)
        {
            var page = await Client.Json($"/v1/{resource.Name}?limit=100");
            var type = typeof(Page<>).MakeGenericType(resource.RecordType);
            var typed = JsonSerializer.Deserialize(page.ToJsonString(), type, Strict);
            Assert.NotNull(typed);
            var again = JsonSerializer.SerializeToNode(typed, type, Strict)!;
            foreach (var (item, roundTripped) in page["items"]!.AsArray().Zip(again["items"]!.AsArray()))
            {
                Assert.Equal(item!["id"]!.ToJsonString(), roundTripped!["id"]!.ToJsonString());
                Assert.Equal(item.AsObject().Select(p => p.Key), roundTripped.AsObject().Select(p => p.Key));
            }
        }
    }
}
