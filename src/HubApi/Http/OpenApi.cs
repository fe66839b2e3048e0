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
                Description = "An API key with the `write` scope, needed by the write operations only; reads are anonymous.",
            });
            o.OperationFilter<QueryLanguageFilter>();
            o.OperationFilter<OperationDocsFilter>();
            o.SchemaFilter<ExampleFilter>();
            o.SchemaFilter<RelationFilter>();
            o.SchemaFilter<InputSchemaFilter>();
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
            id.Schema = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = ListQuery.Slug().ToString(), MaxLength = 100 };
        }

        if (metadata.OfType<FacetEndpoint>().FirstOrDefault() is { } facets)
        {
            operation.Parameters ??= [];
            var names = ResourceReader.FacetNames(facets.Resource).ToList();
            operation.Parameters.Add(List("by", "The facets to count.", Enum(names), required: true, example: names[0]));
            AddSearchAndFilters(operation, facets.Resource);
            return;
        }
        if (metadata.OfType<CollectionEndpoint>().FirstOrDefault() is not { } collection) return;
        var r = collection.Resource;
        operation.Parameters ??= [];
        operation.Parameters.Add(Query("limit", $"Items per page, 1 to {ListQuery.MaxLimit}.", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ListQuery.MaxLimit.ToString(CultureInfo.InvariantCulture),
            Default = JsonValue.Create(ListQuery.DefaultLimit),
        }));
        operation.Parameters.Add(Query("cursor", "The `next` value of the previous page. Bound to the sort, filters and search it was issued for.", Text(4096)));
        operation.Parameters.Add(List("sort", "Sort keys; `-` sorts descending. `id` is always the final tie-breaker.",
            Enum(r.SortNames.SelectMany(n => new[] { n, "-" + n })), example: "-name"));
        operation.Parameters.Add(List("fields", "Only these properties (`id` is always present).", Enum(r.FieldNames), example: "id,name"));
        if (r.IncludeNames.Count > 0)
            operation.Parameters.Add(List("include", "Embed these related records in place of their ids.", Enum(r.IncludeNames), example: r.IncludeNames[0]));
        operation.Parameters.Add(Query("count", "Add `total`, the number of records matching the filters.",
            new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) }));
        AddSearchAndFilters(operation, r);

        // Exports: the same query, every page, as CSV or NDJSON.
        if (operation.Responses?.TryGetValue("200", out var ok) == true && ok is OpenApiResponse okResponse)
        {
            okResponse.Description = "A page of records; with `Accept: text/csv` or `Accept: application/x-ndjson`, every matching record (limit and cursor do not apply).";
            okResponse.Content ??= new Dictionary<string, OpenApiMediaType>();
            okResponse.Content[Export.Csv] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "A header row, then one row per record; to-many ids joined with ';'; citations left out." } };
            okResponse.Content[Export.Ndjson] = new OpenApiMediaType { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Description = "One JSON record per line." } };
        }
    }

    private static void AddSearchAndFilters(OpenApiOperation operation, Resource r)
    {
        operation.Parameters!.Add(Query("q", "Full-text search over names, descriptions and quotes; words match as prefixes. Results come in relevance order unless `sort` is given.",
            Text(ListQuery.MaxSearchLength), JsonValue.Create("chip")));
        foreach (var field in r.Filters)
        {
            switch (field.Type)
            {
                case FieldType.Boolean:
                    operation.Parameters.Add(Query(field.Name, field.Description, new OpenApiSchema { Type = JsonSchemaType.Boolean }));
                    break;
                case FieldType.Integer or FieldType.Number:
                    var type = field.Type == FieldType.Integer ? JsonSchemaType.Integer : JsonSchemaType.Number;
                    var format = field.Type == FieldType.Integer ? "int64" : "double";
                    operation.Parameters.Add(Query(field.Range.Low, $"At least this {field.Name}. {field.Description}", new OpenApiSchema { Type = type, Format = format }));
                    operation.Parameters.Add(Query(field.Range.High, $"At most this {field.Name}. {field.Description}", new OpenApiSchema { Type = type, Format = format }));
                    break;
                default:
                    operation.Parameters.Add(List(field.Name, field.Description + " Any of these values.",
                        field.Values is { } values ? Enum(values) : Text(field.MaxLength)));
                    break;
            }
        }
        foreach (var relation in r.Relations)
        {
            operation.Parameters.Add(List(relation.FilterName, $"{relation.Description} Any of these ids.",
                new OpenApiSchema { Type = JsonSchemaType.String, Pattern = ListQuery.Slug().ToString(), MaxLength = 100 }));
        }
    }

    private static OpenApiParameter Query(string name, string description, OpenApiSchema schema, JsonNode? example = null) =>
        new() { Name = name, In = ParameterLocation.Query, Description = description, Schema = schema, Example = example };

    /// <summary>A comma-separated list (form style, not exploded), so generated clients take an array.</summary>
    private static OpenApiParameter List(string name, string description, OpenApiSchema items, bool required = false, string? example = null) =>
        new()
        {
            Name = name, In = ParameterLocation.Query, Description = description + " Comma-separated.", Required = required,
            Style = ParameterStyle.Form, Explode = false,
            Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = items, MaxItems = ListQuery.MaxListValues },
            Example = example is null ? null : new JsonArray([.. example.Split(',').Select(e => (JsonNode)JsonValue.Create(e))]),
        };

    private static OpenApiSchema Text(int maxLength) => new() { Type = JsonSchemaType.String, MaxLength = maxLength };

    private static OpenApiSchema Enum(IEnumerable<string> values) =>
        new() { Type = JsonSchemaType.String, Enum = [.. values.Select(v => (JsonNode)JsonValue.Create(v))] };
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
            var either = new OpenApiSchema
            {
                OneOf = [new OpenApiSchema { Type = JsonSchemaType.String, Pattern = ListQuery.Slug().ToString() }, target],
            };
            var description = properties[relation.Name].Description + " With `include`, the record itself.";
            properties[relation.Name] = relation.Many
                ? new OpenApiSchema { Type = JsonSchemaType.Array, Items = either, Description = description }
                : new OpenApiSchema { OneOf = either.OneOf, Type = JsonSchemaType.Null, Description = description };
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

/// <summary>States each input schema's constraints from its resource definition: the same rules the validator applies.</summary>
public sealed class InputSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete || concrete.Properties is not { } properties) return;
        var resource = ResourceCatalog.All.FirstOrDefault(r => r.InputType == context.Type);
        if (resource is null) return;

        concrete.Required = new HashSet<string>(["name", .. resource.Fields.Where(f => !f.Nullable).Select(f => f.Name)]);
        concrete.AdditionalPropertiesAllowed = false;
        var slug = ListQuery.Slug().ToString();
        void Set(string name, Action<OpenApiSchema> change)
        {
            if (properties.TryGetValue(name, out var found) && found is OpenApiSchema property) change(property);
        }
        static string? Bound(double value) =>
            value is double.MinValue or double.MaxValue ? null : value.ToString(CultureInfo.InvariantCulture);

        Set("id", p => { p.Pattern = slug; p.MaxLength = Resource.IdMaxLength; });
        Set("name", p => { p.MinLength = 1; p.MaxLength = Resource.NameMaxLength; });
        foreach (var field in resource.Fields)
        {
            Set(field.Name, p =>
            {
                if (field.Type == FieldType.Text && field.Values is null) p.MaxLength = field.MaxLength;
                if (field.Type is FieldType.Integer or FieldType.Number)
                {
                    p.Minimum = Bound(field.Minimum);
                    p.Maximum = Bound(field.Maximum);
                }
            });
        }
        foreach (var relation in resource.ToOne) Set(relation.Name, p => { p.Pattern = slug; p.MaxLength = Resource.IdMaxLength; });
        foreach (var relation in resource.ToMany)
        {
            Set(relation.Name, p =>
            {
                p.MaxItems = RecordValidator.MaxLinks;
                p.UniqueItems = true;
                p.Items = new OpenApiSchema { Type = JsonSchemaType.String, Pattern = slug, MaxLength = Resource.IdMaxLength };
            });
        }
        Set("citations", p => p.MaxItems = RecordValidator.MaxCitations);
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
        var record = Dataset.Value[resource.Name]!.AsArray().FirstOrDefault(n => n!["id"]!.GetValue<string>() == resource.ExampleId);
        if (record is null) return;

        var example = new JsonObject();
        foreach (var property in concrete.Properties?.Keys ?? [])
        {
            example[property] = property switch
            {
                "version" => 1,
                "createdAt" or "updatedAt" => "2026-01-01T00:00:00.000Z",
                "text" => "…",
                _ => record[property]?.DeepClone(),
            };
        }
        concrete.Example = example;
    }
}
