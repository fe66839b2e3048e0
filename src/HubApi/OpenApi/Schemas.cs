using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>Schemas and parameters that several filters share, each with the constraints the service enforces.</summary>
public static class Schemas
{
    /// <summary>The ids' pattern, as the validators match it.</summary>
    public static readonly string SlugPattern = Ids.Slug().ToString();
    /// <summary>Counters (versions, sequence numbers, totals) stay within the integers JavaScript represents exactly.</summary>
    public const string MaxCounter = "9007199254740991";
    /// <summary>An entity tag or a list of them (RFC 9110 8.8.3), or *.</summary>
    public const string EntityTagsPattern = "^(\\*|(W/)?\"[\\x21\\x23-\\x7E]*\"( *, *(W/)?\"[\\x21\\x23-\\x7E]*\")*)$";

    /// <summary>The component naming the resources (the change feed's and the problems' `resource`).</summary>
    public const string ResourceName = "ResourceName";

    public static void AddResourceName(SchemaRepository repository, IEnumerable<string> names)
    {
        if (repository.Schemas.ContainsKey(ResourceName)) return;
        var schema = Enum(names);
        schema.Description = "A resource: the last segment of its collection's path.";
        repository.AddDefinition(ResourceName, schema);
    }

    public static OpenApiSchema Id() => new() { Type = JsonSchemaType.String, Pattern = SlugPattern, MaxLength = Resource.IdMaxLength };

    public static OpenApiSchema Text(int maxLength) => new() { Type = JsonSchemaType.String, MaxLength = maxLength };

    /// <summary>An ISO 8601 timestamp leaves room for any precision and offset within this length.</summary>
    public const int TimestampMaxLength = 40;

    public static OpenApiSchema Timestamp() => new() { Type = JsonSchemaType.String, Format = "date-time", MaxLength = TimestampMaxLength };

    public static OpenApiSchema Cursor() => new()
    {
        Type = JsonSchemaType.String, MaxLength = 4096, Pattern = "^[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+$",
    };

    public static OpenApiSchema Counter(long minimum) => new()
    {
        Type = JsonSchemaType.Integer, Format = "int64", Minimum = minimum.ToString(CultureInfo.InvariantCulture), Maximum = MaxCounter,
    };

    public static OpenApiSchema Enum(IEnumerable<string> values) =>
        new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] };

    /// <summary>A numeric field's schema, with the bounds the validator applies to it.</summary>
    public static OpenApiSchema Number(Field field)
    {
        var integer = field.Type == FieldType.Integer;
        return new OpenApiSchema
        {
            Type = integer ? JsonSchemaType.Integer : JsonSchemaType.Number,
            Format = integer ? "int64" : "double",
            Minimum = Bound(field.Minimum) ?? (integer ? long.MinValue.ToString(CultureInfo.InvariantCulture) : null),
            Maximum = Bound(field.Maximum) ?? (integer ? long.MaxValue.ToString(CultureInfo.InvariantCulture) : null),
        };
    }

    public static string? Bound(double value) =>
        value is double.MinValue or double.MaxValue ? null : value.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// A parameter kept once under components/parameters as <paramref name="id"/>, and referred to by every operation that
    /// takes it: a resource's filters appear in its list, its facets, its exports and every nested list of it.
    /// </summary>
    public static IOpenApiParameter Shared(OpenApiDocument document, string id, Func<OpenApiParameter> create)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Parameters ??= new Dictionary<string, IOpenApiParameter>();
        if (!document.Components.Parameters.ContainsKey(id)) document.Components.Parameters[id] = create();
        return new OpenApiParameterReference(id, document);
    }

    /// <summary>A response kept once under components/responses, like <see cref="Shared(OpenApiDocument, string, Func{OpenApiParameter})"/>.</summary>
    public static IOpenApiResponse Shared(OpenApiDocument document, string id, Func<OpenApiResponse> create)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        if (!document.Components.Responses.ContainsKey(id)) document.Components.Responses[id] = create();
        return new OpenApiResponseReference(id, document);
    }

    /// <summary>A record's id in its path (`FirmId`), for its item, its nested lists and its history.</summary>
    public static IOpenApiParameter IdParameter(OpenApiDocument document, Resource resource) =>
        Shared(document, resource.SingularTitle + "Id", () => new OpenApiParameter
        {
            Name = "id", In = ParameterLocation.Path, Required = true, Description = $"The {resource.Singular}'s id.",
            Example = JsonValue.Create(resource.ExampleId), Schema = Id(),
        });

    /// <summary>The page size of the lists, of a record's history and of the audit log alike (the history's bounds are the lists').</summary>
    public static IOpenApiParameter Limit(OpenApiDocument document) =>
        Shared(document, "Limit", () => Query("limit", $"Items per page, 1 to {ListQuery.MaxLimit}.", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ListQuery.MaxLimit.ToString(CultureInfo.InvariantCulture),
            Default = JsonValue.Create(ListQuery.DefaultLimit),
        }));

    /// <summary>`industry-min` → `IndustryMin`: a parameter's name as part of a component's.</summary>
    public static string Pascal(string name) =>
        string.Concat(name.Split('-', '_').Where(w => w.Length > 0).Select(w => char.ToUpperInvariant(w[0]) + w[1..]));

    public static OpenApiParameter Query(string name, string description, OpenApiSchema schema, JsonNode? example = null) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema, Example = example };

    /// <summary>
    /// A list, so generated clients take an array. Declared the OpenAPI default way (form style, exploded: `zone=a&amp;zone=b`),
    /// which every stock generator sends; the service reads comma-separated values (`zone=a,b`) alike, as the info
    /// description says once for every list parameter.
    /// </summary>
    public static OpenApiParameter List(string name, string description, IOpenApiSchema items, bool required = false, string? example = null) =>
        new()
        {
            Name = name, In = ParameterLocation.Query, Description = description, Required = required,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = items, MaxItems = ListQuery.MaxListValues },
            Example = example is null ? null : new JsonArray([.. example.Split(',').Select(e => (JsonNode)JsonValue.Create(e))]),
        };

    /// <summary>
    /// Completes a component schema generated from a record: the members every instance has, and a change to each named
    /// property (bounds, a nullable type), for operations that document their own response records.
    /// </summary>
    public static void Complete(SchemaRepository repository, string name, string[] required, params (string Property, Action<OpenApiSchema> Change)[] changes)
    {
        if (!repository.Schemas.TryGetValue(name, out var found) || found is not OpenApiSchema { Properties: { } properties } schema) return;
        schema.Required = new HashSet<string>(required);
        foreach (var (property, change) in changes)
        {
            if (properties.TryGetValue(property, out var member) && member is OpenApiSchema concrete) change(concrete);
        }
    }

    /// <summary>A whole number from <paramref name="minimum"/> within the counters' range (seq, version, row counts).</summary>
    public static void CounterFrom(OpenApiSchema schema, long minimum)
    {
        schema.Minimum = minimum.ToString(CultureInfo.InvariantCulture);
        schema.Maximum = MaxCounter;
    }
}
