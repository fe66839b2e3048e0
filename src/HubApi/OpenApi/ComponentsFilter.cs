using HubApi.Resources;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>The shared responses and headers the operations refer to, and a description for each tag.</summary>
public sealed class ComponentsFilter(ResourceCatalog catalog) : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
        // Reads need no key: said once for the document (the writes require theirs), rather than leave them looking forgotten.
        document.Security = [new OpenApiSecurityRequirement()];
        document.Components ??= new OpenApiComponents();
        document.Components.Headers = new Dictionary<string, IOpenApiHeader>
        {
            [StandardResponsesFilter.CorsHeader] = new OpenApiHeader
            {
                Description = "On cross-origin requests: `*` for reads; for writes, the requesting origin when it is one of the configured `Cors:WriteOrigins`.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 2048, Pattern = "^(\\*|[a-z][a-z0-9+.-]*://[^/]+)$" },
            },
            [StandardResponsesFilter.ETagHeader] = new OpenApiHeader
            {
                Description = "A strong entity tag of this representation (after a write, of the record as written): send it as `If-None-Match` to revalidate, or as `If-Match` to write.",
                Schema = ETag(),
            },
            [StandardResponsesFilter.LinkHeader] = new OpenApiHeader
            {
                Description = "`<url>; rel=\"next\"`: the absolute URL of the next page, when there is one.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 16384, Pattern = "^<[^>]+>; rel=\"next\"$" },
            },
            [StandardResponsesFilter.LocationHeader] = new OpenApiHeader
            {
                Description = "The URL of the new record.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference", MaxLength = 2048 },
            },
            [StandardResponsesFilter.RetryAfterHeader] = new OpenApiHeader
            {
                Description = "Seconds to wait before retrying.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int32", Minimum = "0", Maximum = "86400" },
            },
        };

        OpenApiResponse Problem(int status, string description, bool retryAfter)
        {
            var headers = new Dictionary<string, IOpenApiHeader>
            {
                ["Access-Control-Allow-Origin"] = new OpenApiHeaderReference(StandardResponsesFilter.CorsHeader, document),
            };
            if (retryAfter) headers["Retry-After"] = new OpenApiHeaderReference(StandardResponsesFilter.RetryAfterHeader, document);
            return new OpenApiResponse
            {
                Description = description,
                Headers = headers,
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    ["application/problem+json"] = new() { Schema = problem, Example = StandardResponsesFilter.ProblemExample(status, catalog) },
                },
            };
        }
        // The problems the operations declared are there already (StandardResponsesFilter); these any operation can meet.
        var responses = document.Components.Responses ??= new Dictionary<string, IOpenApiResponse>();
        responses[StandardResponsesFilter.TooManyRequests] = Problem(429,
            "Too many requests from this API key (or, without one, from this address) in the current minute: retry after `Retry-After` seconds.", true);
        responses[StandardResponsesFilter.InternalServerError] = Problem(500,
            "An unexpected fault; `traceId` finds it in the service's logs.", false);
        responses[StandardResponsesFilter.ServiceUnavailable] = Problem(503,
            "The database is busy, read-only or unavailable, or the request ran past its time limit: retry after `Retry-After` seconds when given.", true);
        responses[StandardResponsesFilter.InsufficientStorage] = Problem(507,
            "The database has no room left for this write: retry after `Retry-After` seconds.", true);

        var descriptions = catalog.All.ToDictionary(r => r.Title, r => r.Description);
        descriptions["Changes"] = "The change feed: every create, update and delete in commit order, to keep a copy of the dataset in sync.";
        foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
        {
            if (tag.Name is { } name && descriptions.TryGetValue(name, out var description)) tag.Description = description;
        }
    }

    public static OpenApiSchema ETag() => new() { Type = JsonSchemaType.String, MaxLength = 66, Pattern = "^\"[0-9a-f]{32}\"$" };
}
