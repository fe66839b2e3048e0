using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>Bounds that follow from a value's type alone: integers within their range, timestamps within their length.</summary>
public sealed class BoundsFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        var type = Nullable.GetUnderlyingType(context.Type) ?? context.Type;
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) concrete.MaxLength ??= Schemas.TimestampMaxLength;
        else if (type == typeof(int))
        {
            concrete.Minimum ??= int.MinValue.ToString(CultureInfo.InvariantCulture);
            concrete.Maximum ??= int.MaxValue.ToString(CultureInfo.InvariantCulture);
        }
        else if (type == typeof(long))
        {
            concrete.Minimum ??= long.MinValue.ToString(CultureInfo.InvariantCulture);
            concrete.Maximum ??= long.MaxValue.ToString(CultureInfo.InvariantCulture);
        }
    }
}

/// <summary>The shared records' constraints: facet counts, citations and the change feed.</summary>
public sealed class SharedSchemaFilter(ResourceCatalog catalog) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties: { } properties } concrete) return;
        void Set(string name, Action<OpenApiSchema> change)
        {
            if (properties.TryGetValue(name, out var found) && found is OpenApiSchema property) change(property);
        }
        var type = context.Type;
        if (type == typeof(ChangePage))
        {
            concrete.Required = new HashSet<string>(["items", "next"]);
            Set("items", p => p.MaxItems = ChangesQueryValidator.MaxLimit);
            Set("next", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
        }
        else if (type == typeof(Change))
        {
            concrete.Required = new HashSet<string>(properties.Keys);
            Set("seq", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
            Set("version", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
            Schemas.AddResourceName(context.SchemaRepository, catalog.All.Select(r => r.Name));
            properties["resource"] = new OpenApiSchemaReference(Schemas.ResourceName, null);
            Set("id", p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; });
            Set("by", p => p.MaxLength = 100);
            concrete.Example = new JsonObject
            {
                ["seq"] = 28, ["resource"] = catalog.Example.Name, ["id"] = catalog.Example.ExampleId, ["op"] = "updated", ["version"] = 2, ["at"] = "2026-01-01T00:00:00.000Z",
                ["by"] = "partner",
            };
        }
        else if (type == typeof(FacetCount))
        {
            concrete.Required = new HashSet<string>(["value", "count"]);
            Set("value", p => p.MaxLength = Resource.NameMaxLength);
            Set("count", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
            concrete.Example = new JsonObject { ["value"] = "lingang", ["count"] = 1 };
        }
        else if (type == typeof(Citation))
        {
            concrete.Required = new HashSet<string>(["source", "quote"]);
            Set("source", p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; });
            Set("quote", p => { p.MinLength = 1; p.MaxLength = RecordValidator.QuoteMaxLength; });
        }
    }
}

/// <summary>
/// RFC 9457 problems as the service writes them: the standard members, `traceId` always, `errors` for validation
/// problems and `references` for a refused delete, nothing else.
/// </summary>
public sealed class ProblemSchemaFilter(ResourceCatalog catalog) : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        var validation = context.Type == typeof(HttpValidationProblemDetails);
        if (!validation && context.Type != typeof(ProblemDetails)) return;

        static OpenApiSchema Text(int maxLength, string description, string? format = null) =>
            new() { Type = JsonSchemaType.String, MaxLength = maxLength, Description = description, Format = format };
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            ["type"] = Text(2048, "A URI reference that identifies the problem type.", "uri-reference"),
            ["title"] = Text(200, "A short summary of the problem type."),
            ["status"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int32", Minimum = "400", Maximum = "599", Description = "The HTTP status code.",
            },
            ["detail"] = Text(4096, "What went wrong with this request, and what to do about it."),
            ["instance"] = Text(2048, "A URI reference that identifies this occurrence.", "uri-reference"),
            ["traceId"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String, MaxLength = 128, Pattern = "^[0-9A-Za-z:._-]+$",
                Description = "Identifies the request in the service's logs: quote it when reporting a problem.",
            },
        };
        Schemas.AddResourceName(context.SchemaRepository, catalog.All.Select(r => r.Name));
        if (validation)
        {
            properties["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = "Each parameter or property at fault (`limit`, `zone`, `industries[1]`, `citations[0].source`) and what is wrong with it.",
                // Bounded by the request itself: an 8 KiB request line holds at most this many parameters.
                MaxProperties = 4096,
                AdditionalProperties = new OpenApiSchema
                {
                    Type = JsonSchemaType.Array, MaxItems = 100,
                    Items = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 2000 },
                },
            };
        }
        else
        {
            properties["references"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Array,
                MaxItems = 100,
                Description = "A refused delete (409): the records that still point at the record, by resource and relation.",
                Items = new OpenApiSchema
                {
                    Type = JsonSchemaType.Object,
                    Required = new HashSet<string>(["resource", "via", "ids", "more"]),
                    AdditionalPropertiesAllowed = false,
                    Properties = new Dictionary<string, IOpenApiSchema>
                    {
                        ["resource"] = new OpenApiSchemaReference(Schemas.ResourceName, null),
                        ["via"] = Schemas.Enum(catalog.All.SelectMany(r => r.Relations).Select(r => r.Name)
                            .Append("citations").Distinct().Order(StringComparer.Ordinal)),
                        ["ids"] = new OpenApiSchema { Type = JsonSchemaType.Array, MaxItems = 10, Items = Schemas.Id() },
                        ["more"] = new OpenApiSchema { Type = JsonSchemaType.Boolean, Description = "Whether more records than `ids` lists point at it." },
                    },
                },
            };
        }
        concrete.Properties = properties;
        concrete.Required = new HashSet<string>(["status"]);
        concrete.AdditionalProperties = null;
        concrete.AdditionalPropertiesAllowed = false;
        concrete.Description = validation
            ? "An RFC 9457 problem for a request that is not valid, with `errors` per parameter or property."
            : "An RFC 9457 problem.";
    }
}
