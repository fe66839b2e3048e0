using System.Text.Json.Nodes;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>The seed dataset (db/seed), shipped beside the binary: what an empty database is loaded with.</summary>
public static class SeedData
{
    public static string File => Path.Combine(AppContext.BaseDirectory, "db", "seed", "dataset.json");

    /// <summary>
    /// The dataset's records of each resource, as JSON objects. A source's text lives in its own file beside the dataset,
    /// as published, and is read into the record when <paramref name="withTexts"/> is set.
    /// </summary>
    public static JsonObject Load(string? file = null, bool withTexts = true)
    {
        file ??= File;
        var dataset = JsonNode.Parse(System.IO.File.ReadAllText(file))!.AsObject();
        if (!withTexts) return dataset;
        foreach (var (_, records) in dataset)
        {
            foreach (var record in records?.AsArray() ?? [])
            {
                if (record?["file"] is JsonValue textFile)
                    record["text"] = System.IO.File.ReadAllText(Path.Combine(Path.GetDirectoryName(file)!, textFile.GetValue<string>()));
            }
        }
        return dataset;
    }

    /// <summary>The dataset's records in the catalog's order (targets of relations first): the order a store inserts them.</summary>
    public static IEnumerable<(Resource Resource, JsonObject Record)> InLoadOrder(ResourceCatalog catalog, JsonObject dataset) =>
        catalog.All.SelectMany(resource => (dataset[resource.Name]?.AsArray() ?? []).Select(record => (resource, record!.AsObject())));
}
