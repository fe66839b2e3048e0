using System.Globalization;
using System.Reflection;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Keys;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.Http;

public static class OpenApi
{
    public static IServiceCollection AddHubOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "HubApi",
                Version = "v1",
                Description = "The Shanghai digital-city dataset: zones, industries, firms, targets, projects, facilities, " +
                              "digital services and city figures, each record citing the sentence of the source it comes from.",
            });
            o.IncludeXmlComments(Path.Combine(AppContext.BaseDirectory, "HubApi.xml"));
            o.SupportNonNullableReferenceTypes();
            o.AddSecurityDefinition(ApiKeyAuthentication.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthentication.Header,
                Description = "An API key with the `write` scope, needed by the write operations only; reads are anonymous. " +
                              "Operators issue keys with `HubApi keys create --name <partner> --scope write`.",
            });
            // The relative URL keeps Swagger UI's "Try it out" and generated clients on the host that serves the document.
            o.AddServer(new OpenApiServer
            {
                Url = "/",
                Description = "This deployment, whichever it is (local, staging or production): the host serving this document.",
                Extensions = new Dictionary<string, IOpenApiExtension> { ["x-internal"] = new JsonNodeExtension(JsonValue.Create(false)) },
            });
            o.OperationFilter<QueryLanguageFilter>();
            o.OperationFilter<OperationDocsFilter>();
            o.OperationFilter<StandardResponsesFilter>(); // last: it completes what the others declared
            o.SchemaFilter<BoundsFilter>();
            o.SchemaFilter<ExampleFilter>();
            o.SchemaFilter<RelationFilter>();
            o.SchemaFilter<RecordSchemaFilter>();
            o.SchemaFilter<SharedSchemaFilter>();
            o.SchemaFilter<ProblemSchemaFilter>();
            o.DocumentFilter<ComponentsFilter>();
        });
        return services;
    }

    /// <summary>
    /// Writes the document exactly as /swagger/v1/swagger.yaml serves it (the committed openapi.yaml): the app is
    /// started on a loopback port without touching the database, and the served bytes are saved.
    /// </summary>
    public static async Task WriteOpenApiAsync(this WebApplication app, string path)
    {
        app.Urls.Clear();
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient();
        await File.WriteAllBytesAsync(path, await client.GetByteArrayAsync(address + "/swagger/v1/swagger.yaml"));
        await app.StopAsync();
    }

    public static void MapHubOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "HubApi v1");
            o.DocumentTitle = "HubApi";
        });
    }
}

/// <summary>Documents each collection's query parameters from its resource definition, so the document cannot drift from what is accepted.</summary>
public sealed class QueryLanguageFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var idResource = metadata.OfType<ItemEndpoint>().FirstOrDefault()?.Resource
                         ?? metadata.OfType<CollectionEndpoint>().FirstOrDefault()?.Parent;
        if (idResource is not null && operation.Parameters?.FirstOrDefault(p => p.Name == "id") is OpenApiParameter id)
        {
            id.Description = $"The {idResource.Singular}'s id.";
            id.Example = JsonValue.Create(idResource.ExampleId);
            id.Schema = Schemas.Id();
        }

        if (metadata.OfType<FacetEndpoint>().FirstOrDefault() is { } facets)
        {
            operation.Parameters ??= [];
            var names = ResourceReader.FacetNames(facets.Resource).ToList();
            operation.Parameters.Add(Schemas.List("by", "The facets to count.",
                Named(context, facets.Resource.SingularTitle + "Facet", $"A facet of {facets.Resource.Name}.", names), required: true, example: names[0]));
            AddSearchAndFilters(operation, facets.Resource, context);
            if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse counts)
            {
                counts.Description = $"For each facet named in `by`, the {ResourceReader.MaxFacetValues} most frequent values and their counts, most frequent first.";
                counts.Content = new Dictionary<string, OpenApiMediaType>
                {
                    [WriteEndpoints.JsonMediaType] = new() { Schema = FacetsSchema(context, facets.Resource, names) },
                };
            }
            return;
        }
        if (metadata.OfType<CollectionEndpoint>().FirstOrDefault() is not { } collection) return;
        var r = collection.Resource;
        operation.Parameters ??= [];
        operation.Parameters.Add(Schemas.Query("limit", $"Items per page, 1 to {ListQuery.MaxLimit}.", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ListQuery.MaxLimit.ToString(CultureInfo.InvariantCulture),
            Default = JsonValue.Create(ListQuery.DefaultLimit),
        }));
        operation.Parameters.Add(Schemas.Query("cursor", "The `next` value of the previous page. Bound to the sort, filters and search it was issued for.", Schemas.Cursor()));
        var one = r.SingularTitle;
        var sortKeys = Named(context, one + "SortKey", $"A key to sort {r.Name} by; `-` sorts descending.", r.SortNames.SelectMany(n => new[] { n, "-" + n }));
        operation.Parameters.Add(Schemas.List("sort", "Sort keys; `-` sorts descending. `id` is always the final tie-breaker.", sortKeys, example: "-name"));
        operation.Parameters.Add(Schemas.List("fields", "Only these properties (`id` is always present).",
            Named(context, one + "Field", $"A property of a {r.Singular}.", r.FieldNames), example: "id,name"));
        if (r.IncludeNames.Count > 0)
        {
            operation.Parameters.Add(Schemas.List("include", "Embed these related records in place of their ids.",
                Named(context, one + "Relation", $"A relation of a {r.Singular}.", r.IncludeNames), example: r.IncludeNames[0]));
        }
        operation.Parameters.Add(Schemas.Query("count", "Add `total`, the number of records matching the filters.",
            new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) }));
        AddSearchAndFilters(operation, r, context, searchExample: collection.Parent is null);

        // Exports: the same query, every page, as CSV or NDJSON.
        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse okResponse)
        {
            okResponse.Description = "A page of records; with `Accept: text/csv` or `Accept: application/x-ndjson`, every matching record (limit and cursor do not apply).";
            okResponse.Content ??= new Dictionary<string, OpenApiMediaType>();
            okResponse.Content[Export.Csv] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A header row, then one row per record; to-many ids joined with ';'; citations left out." } };
            okResponse.Content[Export.Ndjson] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "One JSON record per line." } };
        }
    }

    /// <summary>A word of the example record's name: Swagger UI pre-fills it, and the search then finds that record.</summary>
    private static string SearchExample(Resource r) =>
        ExampleFilter.Example(r)?["name"]?.GetValue<string>().Split(' ', '-', '(', ')').FirstOrDefault(w => w.Length >= 4 && w.All(char.IsLetter))?.ToLowerInvariant()
        ?? r.ExampleId.Split('-')[0];

    /// <summary>An enum kept once under components, so that generated clients name its type.</summary>
    private static IOpenApiSchema Named(OperationFilterContext context, string id, string description, IEnumerable<string> values)
    {
        if (!context.SchemaRepository.Schemas.ContainsKey(id))
        {
            var schema = Schemas.Enum(values);
            schema.Description = description;
            // Member names for generated C# enums (NSwag reads x-enumNames): `-name` becomes NameDescending, not Minusname.
            schema.Extensions = new Dictionary<string, IOpenApiExtension>
            {
                ["x-enumNames"] = new JsonNodeExtension(new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(
                    string.Concat(v.TrimStart('-').Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..])) + (v.StartsWith('-') ? "Descending" : ""))!)])),
            };
            context.SchemaRepository.AddDefinition(id, schema);
        }
        return new OpenApiSchemaReference(id, context.Document);
    }

    // searchExample: nested lists give `q` no example, as the example record need not be within the parent.
    private static void AddSearchAndFilters(OpenApiOperation operation, Resource r, OperationFilterContext context, bool searchExample = true)
    {
        operation.Parameters!.Add(Schemas.Query("q", "Full-text search over names, descriptions and quotes; words match as prefixes. Results come in relevance order unless `sort` is given.",
            Schemas.Text(ListQuery.MaxSearchLength), searchExample ? JsonValue.Create(SearchExample(r)) : null));
        foreach (var field in r.Filters)
        {
            switch (field.Type)
            {
                case FieldType.Boolean:
                    operation.Parameters.Add(Schemas.Query(field.Name, field.Description, new OpenApiSchema { Type = JsonSchemaType.Boolean }));
                    break;
                case FieldType.Integer or FieldType.Number:
                    operation.Parameters.Add(Schemas.Query(field.Range.Low, $"At least this {field.Name}. {field.Description}", Schemas.Number(field)));
                    operation.Parameters.Add(Schemas.Query(field.Range.High, $"At most this {field.Name}. {field.Description}", Schemas.Number(field)));
                    break;
                default:
                    operation.Parameters.Add(Schemas.List(field.Name, field.Description + " Any of these values.",
                        field.Values is null ? Schemas.Text(field.MaxLength) : ValuesSchema(r, field, context)));
                    break;
            }
        }
        foreach (var relation in r.Relations)
            operation.Parameters.Add(Schemas.List(relation.FilterName, $"{relation.Description} Any of these ids.", Schemas.Id()));
    }

    /// <summary>The C# enum behind a field with fixed values (a service's area), so the filter and the record share its type.</summary>
    private static IOpenApiSchema ValuesSchema(Resource r, Field field, OperationFilterContext context)
    {
        var property = r.RecordType.GetProperty(char.ToUpperInvariant(field.Name[0]) + field.Name[1..])?.PropertyType;
        var type = property is null ? null : Nullable.GetUnderlyingType(property) ?? property;
        return type is { IsEnum: true } ? context.SchemaGenerator.GenerateSchema(type, context.SchemaRepository) : Schemas.Enum(field.Values!);
    }

    /// <summary>One property per facet, so that generated clients read <c>facets.zone</c> rather than a dictionary.</summary>
    private static OpenApiSchemaReference FacetsSchema(OperationFilterContext context, Resource resource, List<string> names)
    {
        var id = resource.SingularTitle + "Facets";
        if (!context.SchemaRepository.Schemas.ContainsKey(id))
        {
            var count = context.SchemaGenerator.GenerateSchema(typeof(FacetCount), context.SchemaRepository);
            context.SchemaRepository.AddDefinition(id, new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = $"Counts of {resource.Name} per value, for the facets named in `by` (only those are present).",
                Properties = names.ToDictionary(n => n, IOpenApiSchema (n) => new OpenApiSchema
                {
                    Type = JsonSchemaType.Array, Items = count, MaxItems = ResourceReader.MaxFacetValues,
                    Description = $"Matching {resource.Name} per {n} value, most frequent first.",
                }),
                AdditionalPropertiesAllowed = false,
            });
        }
        return new OpenApiSchemaReference(id, context.Document);
    }
}

/// <summary>Schemas and parameters that several filters share, each with the constraints the service enforces.</summary>
public static class Schemas
{
    /// <summary>The ids' pattern, as the validators match it.</summary>
    public static readonly string SlugPattern = ListQuery.Slug().ToString();
    /// <summary>Counters (versions, sequence numbers, totals) stay within the integers JavaScript represents exactly.</summary>
    public const string MaxCounter = "9007199254740991";
    /// <summary>An entity tag or a list of them (RFC 9110 8.8.3), or *.</summary>
    public const string EntityTagsPattern = "^(\\*|(W/)?\"[\\x21\\x23-\\x7E]*\"( *, *(W/)?\"[\\x21\\x23-\\x7E]*\")*)$";

    /// <summary>The component naming the resources (the change feed's and the problems' `resource`).</summary>
    public const string ResourceName = "ResourceName";

    public static void AddResourceName(SchemaRepository repository)
    {
        if (repository.Schemas.ContainsKey(ResourceName)) return;
        var schema = Enum(ResourceCatalog.All.Select(r => r.Name));
        schema.Description = "A resource: the last segment of its collection's path.";
        repository.AddDefinition(ResourceName, schema);
    }

    public static OpenApiSchema Id() => new() { Type = JsonSchemaType.String, Pattern = SlugPattern, MaxLength = Resource.IdMaxLength };

    public static OpenApiSchema Text(int maxLength) => new() { Type = JsonSchemaType.String, MaxLength = maxLength };

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

    public static OpenApiParameter Query(string name, string description, OpenApiSchema schema, JsonNode? example = null) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema, Example = example };

    /// <summary>A comma-separated list (form style, not exploded), so generated clients take an array.</summary>
    public static OpenApiParameter List(string name, string description, IOpenApiSchema items, bool required = false, string? example = null) =>
        new()
        {
            Name = name, In = ParameterLocation.Query, Description = description + " Comma-separated.", Required = required,
            Style = ParameterStyle.Form, Explode = false,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = items, MaxItems = ListQuery.MaxListValues },
            Example = example is null ? null : new JsonArray([.. example.Split(',').Select(e => (JsonNode)JsonValue.Create(e))]),
        };
}

/// <summary>Relations are ids, or the related records themselves when named in `include`.</summary>
public sealed class RelationFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties: { } properties }) return;
        var resource = ResourceCatalog.All.FirstOrDefault(r => r.RecordType == context.Type);
        if (resource is null) return;
        foreach (var relation in resource.Relations)
        {
            var target = context.SchemaGenerator.GenerateSchema(ResourceCatalog.Get(relation.Target)!.RecordType, context.SchemaRepository);
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

/// <summary>Endpoint metadata that completes an endpoint's OpenAPI operation with what its handler signature cannot express.</summary>
public sealed record OperationDocs(Action<OpenApiOperation, OperationFilterContext> Apply);

public sealed class OperationDocsFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var docs in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OperationDocs>()) docs.Apply(operation, context);
    }
}

/// <summary>
/// States each record's and each input's constraints from its resource definition: the same rules the validator
/// applies to writes, so they hold for every record read back too.
/// </summary>
public sealed class RecordSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || concrete.Properties is not { } properties) return;
        var resource = ResourceCatalog.All.FirstOrDefault(r => r.InputType == context.Type);
        var isInput = resource is not null;
        resource ??= ResourceCatalog.All.FirstOrDefault(r => r.RecordType == context.Type);
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
public sealed class ExampleFilter : ISchemaFilter
{
    private static readonly Lazy<JsonObject> Dataset = new(() => JsonNode.Parse(File.ReadAllText(Database.SeedFile))!.AsObject());

    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        var resource = ResourceCatalog.All.FirstOrDefault(r => r.RecordType == context.Type || r.InputType == context.Type);
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
        var target = ResourceCatalog.Get(relation.Target)!;
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
