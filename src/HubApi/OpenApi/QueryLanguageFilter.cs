using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Http;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>
/// Documents each collection's query parameters from its resource definition, so the document cannot drift from what is
/// accepted. Each parameter is kept once under components/parameters, named for its resource (`FirmZone`, `FirmSort`),
/// and every operation that takes it (the list, its facets, its exports, each nested list) refers to it.
/// </summary>
public sealed class QueryLanguageFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var idResource = metadata.OfType<ItemEndpoint>().FirstOrDefault()?.Resource
                         ?? metadata.OfType<CollectionEndpoint>().FirstOrDefault()?.Parent;
        if (idResource is not null && operation.Parameters?.FirstOrDefault(p => p.Name == "id") is OpenApiParameter id)
        {
            operation.Parameters[operation.Parameters.IndexOf(id)] = Schemas.IdParameter(context.Document, idResource);
        }
        if (metadata.OfType<VersionedEndpoint>().Any())
        {
            operation.Parameters!.Add(Schemas.Shared(context.Document, "Version", () => Schemas.Query("version",
                "That version of the record instead of the current one (its history lists them).", Schemas.Counter(1), JsonValue.Create(1))));
        }

        if (metadata.OfType<FacetEndpoint>().FirstOrDefault() is { } facets)
        {
            operation.Parameters ??= [];
            var names = facets.Resource.FacetNames.ToList();
            operation.Parameters.Add(Schemas.List("by", "The facets to count.",
                Named(context, facets.Resource.SingularTitle + "Facet", $"A facet of {facets.Resource.Name}.", names), required: true, example: names[0]));
            AddSearchAndFilters(operation, facets.Resource, context);
            if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse counts)
            {
                counts.Description = $"For each facet named in `by`, the {ListQuery.MaxFacetValues} most frequent values and their counts, most frequent first.";
                counts.Content = new Dictionary<string, OpenApiMediaType>
                {
                    [WriteBodies.JsonMediaType] = new() { Schema = FacetsSchema(context, facets.Resource, names) },
                };
            }
            return;
        }
        if (metadata.OfType<ExportEndpoint>().FirstOrDefault() is { } export)
        {
            operation.Parameters ??= [];
            AddSortAndFields(operation, export.Resource, context);
            AddSearchAndFilters(operation, export.Resource, context);
            operation.Responses ??= [];
            operation.Responses["200"] = Schemas.Shared(context.Document, export.MediaType == Export.Csv ? "CsvExport" : "NdjsonExport", () => new OpenApiResponse
            {
                Description = export.MediaType == Export.Csv
                    ? "A header row, then one row per record; to-many ids joined with `;`; citations left out."
                    : "One JSON record per line, as `GET` renders it.",
                Headers = new Dictionary<string, IOpenApiHeader>
                {
                    [StandardResponsesFilter.CorsHeader] = new OpenApiHeaderReference(StandardResponsesFilter.CorsHeader, context.Document),
                },
                // Binary: generated clients hand the body over as it is (a stream or a blob), rather than parse it as JSON.
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [export.MediaType] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "binary" } },
                },
            });
            return;
        }
        if (metadata.OfType<CollectionEndpoint>().FirstOrDefault() is not { } collection) return;
        var r = collection.Resource;
        operation.Parameters ??= [];
        var document = context.Document;
        operation.Parameters.Add(Schemas.Limit(document));
        operation.Parameters.Add(Schemas.Shared(document, "Cursor", () =>
            Schemas.Query("cursor", "The `next` value of the previous page. Bound to the sort, filters and search it was issued for.", Schemas.Cursor())));
        AddSortAndFields(operation, r, context);
        if (r.IncludeNames.Count > 0)
        {
            operation.Parameters.Add(Schemas.Shared(document, r.SingularTitle + "Include", () => Schemas.List("include", "Embed these related records under each record's `embedded`; its relations stay ids.",
                Named(context, r.SingularTitle + "Relation", $"A relation of {r.Indefinite}.", r.IncludeNames), example: r.IncludeNames[0])));
        }
        operation.Parameters.Add(Schemas.Shared(document, "Count", () => Schemas.Query("count", "Add `total`, the number of records matching the filters.",
            new OpenApiSchema { Type = JsonSchemaType.Boolean, Default = JsonValue.Create(false) })));
        AddSearchAndFilters(operation, r, context, searchExample: collection.Parent is null);

        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse page)
            page.Description = $"A page of {r.Name}. Every matching {r.Singular} at once: `/v1/{r.Name}.csv` or `/v1/{r.Name}.ndjson`.";
    }

    private static void AddSortAndFields(OpenApiOperation operation, Resource r, OperationFilterContext context)
    {
        var one = r.SingularTitle;
        var sortKeys = Named(context, one + "SortKey", $"A key to sort {r.Name} by; `-` sorts descending.", r.SortNames.SelectMany(n => new[] { n, "-" + n }));
        operation.Parameters!.Add(Schemas.Shared(context.Document, one + "Sort", () =>
            Schemas.List("sort", "Sort keys; `-` sorts descending. `id` is always the final tie-breaker.", sortKeys, example: "-name")));
        operation.Parameters.Add(Schemas.Shared(context.Document, one + "Fields", () => Schemas.List("fields", "Only these properties (`id` is always present).",
            Named(context, one + "Field", $"A property of {r.Indefinite}.", r.FieldNames), example: "id,name")));
    }

    /// <summary>A word of the example record's name: Swagger UI pre-fills it, and the search then finds that record.</summary>
    private static string SearchExample(Resource r) =>
        Examples.Example(r)?["name"]?.GetValue<string>().Split(' ', '-', '(', ')').FirstOrDefault(w => w.Length >= 4 && w.All(char.IsLetter))?.ToLowerInvariant()
        ?? r.ExampleId.Split('-')[0];

    /// <summary>An enum kept once under components, so that generated clients name its type.</summary>
    private static IOpenApiSchema Named(OperationFilterContext context, string id, string description, IEnumerable<string> values)
    {
        if (!context.SchemaRepository.Schemas.ContainsKey(id))
        {
            var schema = Schemas.Enum(values);
            schema.Description = description;
            // Member names for generated C# enums (NSwag reads x-enumNames): `-name` becomes NameDescending, not Minusname.
            // Values without a hyphen need none: the generators' own names for them are these.
            if (values.Any(v => v.Contains('-'))) schema.Extensions = new Dictionary<string, IOpenApiExtension>
            {
                ["x-enumNames"] = new JsonNodeExtension(new JsonArray([.. values.Select(v => (JsonNode)JsonValue.Create(
                    string.Concat(v.TrimStart('-').Split('-').Select(w => char.ToUpperInvariant(w[0]) + w[1..])) + (v.StartsWith('-') ? "Descending" : ""))!)])),
            };
            context.SchemaRepository.AddDefinition(id, schema);
        }
        return new OpenApiSchemaReference(id, context.Document);
    }

    // searchExample: nested lists give `q` no example, as the example record need not be within the parent; without one,
    // the search parameter is the same for every resource.
    private static void AddSearchAndFilters(OpenApiOperation operation, Resource r, OperationFilterContext context, bool searchExample = true)
    {
        void Add(string name, Func<OpenApiParameter> create) =>
            operation.Parameters!.Add(Schemas.Shared(context.Document, r.SingularTitle + Schemas.Pascal(name), create));

        const string search = "Full-text search over names, descriptions and quotes; words match as prefixes. Results come in relevance order unless `sort` is given.";
        if (searchExample) Add("search", () => Schemas.Query("q", search, Schemas.Text(ListQuery.MaxSearchLength), JsonValue.Create(SearchExample(r))));
        else operation.Parameters!.Add(Schemas.Shared(context.Document, "SearchWithin", () => Schemas.Query("q", search, Schemas.Text(ListQuery.MaxSearchLength))));
        foreach (var field in r.Filters)
        {
            var description = field.FilterDescription ?? field.Description;
            switch (field.Type)
            {
                case FieldType.Boolean:
                    Add(field.Name, () => Schemas.Query(field.Name, description, new OpenApiSchema { Type = JsonSchemaType.Boolean }));
                    break;
                case FieldType.Integer or FieldType.Number:
                    Add(field.Range.Low, () => Schemas.Query(field.Range.Low, $"At least this {field.Name}. {description}", Schemas.Number(field)));
                    Add(field.Range.High, () => Schemas.Query(field.Range.High, $"At most this {field.Name}. {description}", Schemas.Number(field)));
                    break;
                default:
                    // Fixed values are the record property's own named type, so the filter and the record share it.
                    Add(field.Name, () => Schemas.List(field.Name, description + " Any of these values.",
                        field.Values is null ? Schemas.Text(field.MaxLength) : ResourceSchemas.For(context).Values(r, field)));
                    break;
            }
        }
        foreach (var relation in r.Relations)
            Add(relation.FilterName, () => Schemas.List(relation.FilterName, $"{relation.FilterDescription} Any of these ids.", Schemas.Id()));
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
                    Type = JsonSchemaType.Array, Items = count, MaxItems = ListQuery.MaxFacetValues,
                    Description = $"Matching {resource.Name} per {n} value, most frequent first.",
                }),
                AdditionalPropertiesAllowed = false,
            });
        }
        return new OpenApiSchemaReference(id, context.Document);
    }
}
