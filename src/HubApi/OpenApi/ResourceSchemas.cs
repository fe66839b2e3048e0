using System.Text.Json.Nodes;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>
/// The schemas of a resource, built from its descriptor alone and kept once under components: its record (`Zone`),
/// its write body (`ZoneInput`), its merge patch (`ZonePatch`), its page (`ZonePage`) and the values of a field that
/// has fixed ones (`ServiceArea`). Each states the constraints the validators apply, so they hold for every record
/// read back too.
/// </summary>
public sealed class ResourceSchemas(ISchemaGenerator generator, SchemaRepository repository)
{
    private const string OmittedMeansNone = "Omitted means none.";

    public static ResourceSchemas For(OperationFilterContext context) => new(context.SchemaGenerator, context.SchemaRepository);

    /// <summary>A record as it is read: every property but `id` may be left out by `fields`.</summary>
    public IOpenApiSchema Record(Resource resource)
    {
        var id = resource.SingularTitle;
        if (repository.Schemas.ContainsKey(id)) return new OpenApiSchemaReference(id);
        var schema = new OpenApiSchema
        {
            Type = JsonSchemaType.Object,
            Required = new HashSet<string>(["id"]),
            AdditionalPropertiesAllowed = false,
            Description = resource.RecordDescription,
        };
        // Registered before its properties are built: records refer to each other through their relations (zones and industries).
        repository.AddDefinition(id, schema);
        schema.Properties = Properties(resource, input: false);
        schema.Example = Examples.Record(resource, schema.Properties.Keys.Where(k => k != Embedded));
        return new OpenApiSchemaReference(id);
    }

    /// <summary>The member of a listed record that holds the records `include` names.</summary>
    public const string Embedded = "embedded";

    /// <summary>
    /// The related records `include` embeds, by relation (a record's own relations stay ids): a property of a type of its
    /// own, so that every generated client types the ids and the records alike (an id-or-record union is one that C#
    /// generators cannot express).
    /// </summary>
    private IOpenApiSchema EmbeddedRecords(Resource resource) => Component(resource.SingularTitle + "Embedded", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Properties = resource.Relations.ToDictionary(r => r.Name, IOpenApiSchema (r) => r.Many
            ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = Record(r.To), MaxItems = RecordValidator.MaxLinks, Description = $"The {r.Name} of the record." }
            // Left out when the relation is null.
            : Record(r.To)),
        AdditionalPropertiesAllowed = false,
        Description = $"The records `include` names, by relation: present only with `include`.",
    });

    /// <summary>
    /// The body of a create or a replace: the merge patch's writable properties, with the name and the non-nullable fields
    /// required (stated once, on the patch, and referred to here).
    /// </summary>
    public IOpenApiSchema Input(Resource resource) => Component(resource.SingularTitle + "Input", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        AllOf = [Patch(resource)],
        Required = new HashSet<string>(["name", .. resource.Fields.Where(f => !f.Nullable).Select(f => f.Name)]),
        Description = resource.InputDescription
                      ?? $"{resource.IndefiniteCapitalized} as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.",
        Example = Examples.Record(resource, resource.WritableNames),
    });

    /// <summary>The input's properties with none required: a merge patch names only what changes.</summary>
    public IOpenApiSchema Patch(Resource resource) => Component(resource.SingularTitle + "Patch", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Properties = Properties(resource, input: true),
        AdditionalPropertiesAllowed = false,
        Description = $"A JSON merge patch (RFC 7396) of {resource.Indefinite}: any of the writable properties `{resource.SingularTitle}` describes; `null` clears one.",
        Example = new JsonObject { ["description"] = $"A corrected description of the {resource.Singular}." },
    });

    public IOpenApiSchema Page(Resource resource) => Component(resource.SingularTitle + "Page", () => new OpenApiSchema
    {
        Type = JsonSchemaType.Object,
        Required = new HashSet<string>(["items", "next"]),
        Properties = new Dictionary<string, IOpenApiSchema>
        {
            ["items"] = Described(new OpenApiSchema { Type = JsonSchemaType.Array, Items = Record(resource), MaxItems = ListQuery.MaxLimit },
                "The records of this page."),
            ["next"] = Described(Schemas.Cursor(), "The cursor of the next page, or null on the last page.", nullable: true),
            ["total"] = Described(Schemas.Counter(0), "The number of records matching the filters; present only when count=true.", nullable: true),
        },
        AdditionalPropertiesAllowed = false,
        Description = "A page of a collection.",
    });

    /// <summary>The values of a field that has fixed ones, named (`ServiceArea`) so that generated clients make it an enum.</summary>
    public IOpenApiSchema Values(Resource resource, Field field) =>
        Component(resource.SingularTitle + char.ToUpperInvariant(field.Name[0]) + field.Name[1..], () =>
        {
            var schema = Schemas.Enum(field.Values!);
            schema.Description = field.ValuesDescription;
            return schema;
        });

    /// <summary>
    /// A record's properties (<paramref name="input"/>: a write body's), in the order records are written. Each is described
    /// once, on the record; a write body's say only what differs when written.
    /// </summary>
    private Dictionary<string, IOpenApiSchema> Properties(Resource resource, bool input)
    {
        var properties = new Dictionary<string, IOpenApiSchema>
        {
            // A write body may leave the id out: it is then derived from the name.
            ["id"] = input
                ? Described(Schemas.Id(), "Derived from the name when omitted on create.", nullable: true)
                : Described(Schemas.Id(), "Stable slug id."),
            ["name"] = Described(new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Resource.NameMaxLength },
                input ? null : resource.NameDescription ?? $"The {resource.Singular}'s name."),
        };
        foreach (var field in resource.Fields) properties[field.Name] = Field(resource, field, input);
        foreach (var relation in resource.Relations) properties[relation.Name] = input ? LinkInput(relation) : Link(relation);

        var citations = new OpenApiSchema
        {
            Type = JsonSchemaType.Array, Items = generator.GenerateSchema(typeof(Citation), repository), MaxItems = RecordValidator.MaxCitations,
        };
        var supporting = resource.CitationsDescription ?? "Quotes from the sources that support this record.";
        properties["citations"] = input ? Described(citations, OmittedMeansNone, nullable: true) : Described(citations, supporting);
        if (input) return properties;

        properties["version"] = Described(Schemas.Counter(1), "Increments on every write.");
        properties["createdAt"] = Described(Schemas.Timestamp(), "When the record was created (UTC).");
        properties["updatedAt"] = Described(Schemas.Timestamp(), "When the record was last changed (UTC).");
        if (resource.Relations.Count > 0) properties[Embedded] = EmbeddedRecords(resource);
        return properties;
    }

    private IOpenApiSchema Field(Resource resource, Field field, bool input)
    {
        // Fixed values are their named type, as is: OpenAPI 3.0 gives a $ref neither a description nor nullable.
        if (field.Values is not null) return Values(resource, field);
        var schema = field.Type switch
        {
            FieldType.Text => Schemas.Text(field.MaxLength),
            FieldType.Boolean => new OpenApiSchema { Type = JsonSchemaType.Boolean },
            _ => Schemas.Number(field),
        };
        return Described(schema, input ? null : field.Description, field.Nullable);
    }

    /// <summary>A relation as read: ids (`include` embeds the records themselves under `embedded`).</summary>
    private static OpenApiSchema Link(Relation relation) => relation.Many
        ? Described(new OpenApiSchema { Type = JsonSchemaType.Array, Items = Schemas.Id(), MaxItems = RecordValidator.MaxLinks }, relation.Description)
        : Described(Schemas.Id(), relation.Description, nullable: true);

    /// <summary>A relation as written: ids only.</summary>
    private static OpenApiSchema LinkInput(Relation relation) => relation.Many
        ? Described(new OpenApiSchema { Type = JsonSchemaType.Array, Items = Schemas.Id(), MaxItems = RecordValidator.MaxLinks, UniqueItems = true },
            OmittedMeansNone, nullable: true)
        : Described(Schemas.Id(), null, nullable: true);

    private static OpenApiSchema Described(OpenApiSchema schema, string? description, bool nullable = false)
    {
        schema.Description = description;
        if (nullable) schema.Type |= JsonSchemaType.Null;
        return schema;
    }

    private OpenApiSchemaReference Component(string id, Func<OpenApiSchema> build)
    {
        if (!repository.Schemas.ContainsKey(id)) repository.AddDefinition(id, build());
        return new OpenApiSchemaReference(id);
    }
}
