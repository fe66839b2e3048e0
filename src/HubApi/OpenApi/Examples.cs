using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Resources;

namespace HubApi.OpenApi;

/// <summary>Examples taken from the seed dataset, so that every example in the document is a real record.</summary>
public static class Examples
{
    private static readonly Lazy<JsonObject> Dataset = new(() => JsonNode.Parse(File.ReadAllText(SeedData.File))!.AsObject());

    /// <summary>The resource's example record with just these properties, in this order, as the dataset has them.</summary>
    public static JsonObject? Record(Resource resource, IEnumerable<string> properties)
    {
        if (Example(resource) is not { } record) return null;
        var example = new JsonObject();
        foreach (var property in properties)
        {
            example[property] = property switch
            {
                "version" => 1,
                "createdAt" or "updatedAt" => "2026-01-01T00:00:00.000Z",
                "text" => "…",
                _ => record[property]?.DeepClone() ?? (resource.Relation(property) is { Many: true } relation ? Linked(relation, resource.ExampleId) : null),
            };
        }
        return example;
    }

    /// <summary>A to-many relation the dataset states on the other side (zone industries are listed on the zones).</summary>
    private static JsonArray Linked(Relation relation, string id)
    {
        var target = relation.To;
        var inverse = target.Relations.FirstOrDefault(r => r.JoinTable == relation.JoinTable);
        if (inverse is null) return [];
        return [.. Dataset.Value[target.Name]!.AsArray()
            .Where(t => t![inverse.Name] is JsonArray ids && ids.Any(x => x!.GetValue<string>() == id))
            .Select(t => (JsonNode)JsonValue.Create(t!["id"]!.GetValue<string>()))];
    }

    /// <summary>The resource's records as the seed dataset has them.</summary>
    public static IEnumerable<JsonObject> Records(Resource resource) =>
        Dataset.Value[resource.Name]?.AsArray().Select(n => n!.AsObject()) ?? [];

    /// <summary>The resource's example record as the seed dataset has it.</summary>
    public static JsonObject? Example(Resource resource) =>
        Dataset.Value[resource.Name]!.AsArray().FirstOrDefault(n => n!["id"]!.GetValue<string>() == resource.ExampleId)?.AsObject();
}
