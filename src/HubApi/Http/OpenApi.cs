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
            o.SchemaFilter<InputSchemaFilter>();
        });
        return services;
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

        if (metadata.OfType<CollectionEndpoint>().FirstOrDefault() is not { } collection) return;
        var r = collection.Resource;
        operation.Parameters ??= [];
        void Add(string name, string description, OpenApiSchema schema, JsonNode? example = null) =>
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = name, In = ParameterLocation.Query, Description = description, Schema = schema, Example = example,
            });
        OpenApiSchema Text(int maxLength = 200) => new() { Type = JsonSchemaType.String, MaxLength = maxLength };
        OpenApiSchema List(IEnumerable<string> values) => new()
        {
            Type = JsonSchemaType.String,
            Description = "Comma-separated; allowed: " + string.Join(", ", values),
            Pattern = $"^({string.Join("|", values.Select(v => v.Replace("-", "\\-")))})(,({string.Join("|", values.Select(v => v.Replace("-", "\\-")))}))*$"
                .Replace("\\-", "-"),
        };

        Add("limit", $"Items per page, 1 to {ListQuery.MaxLimit}.", new OpenApiSchema
        {
            Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ListQuery.MaxLimit.ToString(CultureInfo.InvariantCulture),
            Default = JsonValue.Create(ListQuery.DefaultLimit),
        });
        Add("cursor", "The `next` value of the previous page. Bound to the sort, filters and search it was issued for.", Text(4096));
        var sortValues = r.SortNames.SelectMany(n => new[] { n, "-" + n }).ToList();
        Add("sort", "Sort keys, comma-separated; `-` sorts descending. `id` is always the final tie-breaker.", List(sortValues), JsonValue.Create("-name"));
        Add("fields", "Only these properties (`id` is always present).", List(r.FieldNames), JsonValue.Create("id,name"));
        if (r.IncludeNames.Count > 0)
            Add("include", "Embed these related records in place of their ids.", List(r.IncludeNames), JsonValue.Create(r.IncludeNames[0]));
        Add("q", "Full-text search over names, descriptions and quotes; words match as prefixes. Results come in relevance order unless `sort` is given.",
            Text(ListQuery.MaxSearchLength));
        Add("count", "Add `total`, the number of records matching the filters.", new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) });

        foreach (var field in r.Filters)
        {
            switch (field.Type)
            {
                case FieldType.Boolean:
                    Add(field.Name, field.Description, new OpenApiSchema { Type = JsonSchemaType.Boolean });
                    break;
                case FieldType.Integer or FieldType.Number:
                    var type = field.Type == FieldType.Integer ? JsonSchemaType.Integer : JsonSchemaType.Number;
                    Add(field.Range.Low, $"At least this {field.Name}. {field.Description}", new OpenApiSchema { Type = type });
                    Add(field.Range.High, $"At most this {field.Name}. {field.Description}", new OpenApiSchema { Type = type });
                    break;
                default:
                    Add(field.Name, field.Description + " Comma-separated values match any.",
                        field.Values is { } values ? List(values) : Text(field.MaxLength));
                    break;
            }
        }
        foreach (var relation in r.Relations)
        {
            Add(relation.FilterName, $"{relation.Description} Ids, comma-separated; matches any.", new OpenApiSchema
            {
                Type = JsonSchemaType.String, Pattern = "^[a-z0-9]+(-[a-z0-9]+)*(,[a-z0-9]+(-[a-z0-9]+)*)*$",
            });
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
