using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Http;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>Relations are ids, or the related records themselves when named in `include`.</summary>
public sealed class RelationFilter(ResourceCatalog catalog) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties: { } properties }) return;
        var resource = catalog.All.FirstOrDefault(r => r.RecordType == context.Type);
        if (resource is null) return;
        foreach (var relation in resource.Relations)
        {
            var target = context.SchemaGenerator.GenerateSchema(relation.To.RecordType, context.SchemaRepository);
            // Ids first and not nullable: generators that must pick one option (NSwag) pick the id. A to-one relation
            // may also be null, an option of its own that only null matches, so exactly one option always holds.
            var description = properties[relation.Name].Description + " With `include`, the record itself.";
            properties[relation.Name] = relation.Many
                ? new OpenApiSchema
                {
                    Type = JsonSchemaType.Array, Items = new OpenApiSchema { OneOf = [Schemas.Id(), target] }, MaxItems = RecordValidator.MaxLinks,
                    Description = description,
                }
                : new OpenApiSchema
                {
                    OneOf =
                    [
                        Schemas.Id(), target,
                        new OpenApiSchema { Type = JsonSchemaType.String | JsonSchemaType.Null, Enum = [null!], Description = "None." },
                    ],
                    Description = description,
                };
        }
    }
}

/// <summary>
/// States each record's and each input's constraints from its resource definition: the same rules the validator
/// applies to writes, so they hold for every record read back too.
/// </summary>
public sealed class RecordSchemaFilter(ResourceCatalog catalog) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || concrete.Properties is not { } properties) return;
        var resource = catalog.All.FirstOrDefault(r => r.InputType == context.Type);
        var isInput = resource is not null;
        resource ??= catalog.All.FirstOrDefault(r => r.RecordType == context.Type);
        if (resource is null) return;

        // A record always has its id; the rest may be left out by `fields`. An input needs its name and non-nullable fields.
        concrete.Required = isInput
            ? new HashSet<string>(["name", .. resource.Fields.Where(f => !f.Nullable).Select(f => f.Name)])
            : new HashSet<string>(["id"]);
        concrete.AdditionalPropertiesAllowed = false;
        void Set(string name, Action<OpenApiSchema> change)
        {
            if (properties.TryGetValue(name, out var found) && found is OpenApiSchema property) change(property);
        }

        Set("id", p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; });
        Set("name", p => { p.MinLength = 1; p.MaxLength = Resource.NameMaxLength; });
        foreach (var field in resource.Fields)
        {
            Set(field.Name, p =>
            {
                if (field.Type == FieldType.Text && field.Values is null) p.MaxLength = field.MaxLength;
                if (field.Type is FieldType.Integer or FieldType.Number)
                {
                    var bounds = Schemas.Number(field);
                    p.Minimum = bounds.Minimum;
                    p.Maximum = bounds.Maximum;
                }
            });
        }
        if (isInput)
        {
            foreach (var relation in resource.ToOne) Set(relation.Name, p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; });
            foreach (var relation in resource.ToMany)
            {
                Set(relation.Name, p =>
                {
                    p.MaxItems = RecordValidator.MaxLinks;
                    p.UniqueItems = true;
                    p.Items = Schemas.Id();
                });
            }
        }
        Set("citations", p => p.MaxItems = RecordValidator.MaxCitations);
        Set("version", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
    }
}

/// <summary>Gives each record schema an example taken from the seed dataset.</summary>
public sealed class ExampleFilter(ResourceCatalog catalog) : ISchemaFilter
{
    private static readonly Lazy<JsonObject> Dataset = new(() => JsonNode.Parse(File.ReadAllText(SeedData.File))!.AsObject());

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        var resource = catalog.All.FirstOrDefault(r => r.RecordType == context.Type || r.InputType == context.Type);
        if (resource is null) return;
        var record = Example(resource);
        if (record is null) return;

        var example = new JsonObject();
        foreach (var property in concrete.Properties?.Keys ?? [])
        {
            example[property] = property switch
            {
                "version" => 1,
                "createdAt" or "updatedAt" => "2026-01-01T00:00:00.000Z",
                "text" => "…",
                _ => record[property]?.DeepClone() ?? (resource.Relation(property) is { Many: true } relation ? Linked(relation, resource.ExampleId) : null),
            };
        }
        concrete.Example = example;
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
