using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Changes;
using HubApi.Data;
using HubApi.Keys;
using Microsoft.AspNetCore.Mvc;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.Http;

/// <summary>
/// What every operation shares and its handler cannot declare: the answers any request can get (429 from the rate
/// limits, 503 from a busy database or the request time-out, 500), the headers of every answer (CORS, ETag, Link,
/// Retry-After), conditional GETs, an explicit statement that reads are anonymous, and a description and an example
/// for each problem. Registered last, so it completes what the endpoint metadata and the other filters declared.
/// </summary>
public sealed class StandardResponsesFilter : IOperationFilter
{
    public const string TooManyRequests = "TooManyRequests";
    public const string ServiceUnavailable = "ServiceUnavailable";
    public const string InternalServerError = "InternalServerError";
    public const string InsufficientStorage = "InsufficientStorage";
    // Shared headers are named as the headers themselves.
    public const string CorsHeader = "Access-Control-Allow-Origin";
    public const string ETagHeader = "ETag";
    public const string LinkHeader = "Link";
    public const string RetryAfterHeader = "Retry-After";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var write = metadata.OfType<WriteEndpoint>().FirstOrDefault();
        var resource = write?.Resource
                       ?? metadata.OfType<ItemEndpoint>().FirstOrDefault()?.Resource
                       ?? metadata.OfType<CollectionEndpoint>().FirstOrDefault()?.Parent;
        var document = context.Document;

        // Reads need no key: say so, rather than leave the operation looking forgotten.
        operation.Security ??= [new OpenApiSecurityRequirement()];

        operation.Responses ??= [];
        var responses = operation.Responses;
        responses["429"] = new OpenApiResponseReference(TooManyRequests, document);
        responses["500"] = new OpenApiResponseReference(InternalServerError, document);
        responses["503"] = new OpenApiResponseReference(ServiceUnavailable, document);
        if (write is not null && write.Kind != WriteKind.Delete) responses["507"] = new OpenApiResponseReference(InsufficientStorage, document);

        // Nothing can point at a record of this resource: its delete is never refused with 409.
        if (write?.Kind == WriteKind.Delete && Referrer(resource) is null) responses.Remove("409");

        var isGet = context.ApiDescription.HttpMethod == "GET";
        if (isGet && responses.ContainsKey("304"))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-None-Match",
                In = ParameterLocation.Header,
                Description = "The `ETag` of the copy you hold: when it still matches, the answer is 304 without a body.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 1024, Pattern = Schemas.EntityTagsPattern },
                Example = JsonValue.Create("\"7a0582dec8d9fe64430156a275e3124f\""),
            });
        }

        foreach (var (status, response) in responses)
        {
            if (response is not OpenApiResponse concrete) continue;
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers["Access-Control-Allow-Origin"] = new OpenApiHeaderReference(CorsHeader, document);
            if (isGet && status is "200" or "304" && operation.OperationId != "StreamChanges")
                concrete.Headers["ETag"] = new OpenApiHeaderReference(ETagHeader, document);
            if (isGet && status == "200" && (metadata.OfType<CollectionEndpoint>().Any() || operation.OperationId == "ListChanges"))
                concrete.Headers["Link"] = new OpenApiHeaderReference(LinkHeader, document);
            if (status == "304") concrete.Description = "The copy named in `If-None-Match` is current: no body.";
            if (resource is not null && concrete.Description is "OK" or "Created" or "No Content")
            {
                concrete.Description = (status, write?.Kind) switch
                {
                    ("201", _) => $"The new {resource.Singular}, as `GET` renders it; its URL in `Location`, its `ETag` for the next write.",
                    ("204", _) => $"The {resource.Singular} is deleted; the change feed records it.",
                    ("200", null) => $"The {resource.Singular}.",
                    _ => $"The {resource.Singular} as written, as `GET` renders it, with its new `ETag`.",
                };
            }
            if (concrete.Content is { } content && content.TryGetValue("application/problem+json", out var problem) && int.TryParse(status, out var code))
            {
                concrete.Description = ProblemDescription(code, write?.Kind, resource) ?? concrete.Description;
                problem.Example = ProblemExample(code, write?.Kind, resource);
            }
        }
    }

    /// <summary>
    /// Who can keep a record from being deleted: a relation of another resource that targets it, or, for sources, the
    /// citations. With the records that do so in the dataset, for the example.
    /// </summary>
    public static (string Resource, string Via, List<string> Ids)? Referrer(Resource? target)
    {
        if (target is null) return null;
        (string, string, List<string>)? any = null;
        foreach (var resource in ResourceCatalog.All)
        {
            foreach (var relation in resource.Relations.Where(r => r.Target == target.Name))
            {
                var ids = ExampleFilter.Records(resource)
                    .Where(r => r[relation.Name] is JsonArray many
                        ? many.Any(v => v?.GetValue<string>() == target.ExampleId)
                        : r[relation.Name] is JsonValue one && one.GetValue<string>() == target.ExampleId)
                    .Select(r => r["id"]!.GetValue<string>()).Take(3).ToList();
                if (ids.Count > 0) return (resource.Name, relation.Name, ids);
                any ??= (resource.Name, relation.Name, [resource.ExampleId]);
            }
        }
        if (target.Name == RecordStore.CitedResource)
        {
            foreach (var resource in ResourceCatalog.All.Where(r => r != target))
            {
                var ids = ExampleFilter.Records(resource)
                    .Where(r => r["citations"] is JsonArray citations && citations.Any(c => c?["source"]?.GetValue<string>() == target.ExampleId))
                    .Select(r => r["id"]!.GetValue<string>()).Take(3).ToList();
                if (ids.Count > 0) return (resource.Name, "citations", ids);
            }
        }
        return any;
    }

    private static string? ProblemDescription(int status, WriteKind? kind, Resource? resource) => status switch
    {
        400 when kind is not null => "The body is not valid JSON, or not a valid record: `errors` names each property at fault and says what it allows.",
        400 => "A parameter is not valid: `errors` names each one at fault and says what it allows.",
        401 => $"No API key in `{ApiKeyAuthentication.Header}`, or one that is unknown or revoked.",
        403 => $"The API key lacks the `{ApiKeyStore.WriteScope}` scope.",
        404 => $"There is no {resource?.Singular ?? "record"} with this id.",
        409 when kind == WriteKind.Delete => "Other records still point at this one: `references` lists them. Change or delete those first.",
        409 => "The id is taken, now or by a deleted record: ids are never reused.",
        412 => "The record has changed since the ETag in `If-Match` was issued: GET it again and reapply the change.",
        413 => $"The body is larger than {WriteEndpoints.MaxBodyBytes / 1024} KiB.",
        415 => "The body is not sent with the media type the operation takes, in UTF-8.",
        422 => "The `Idempotency-Key` was used before with another body.",
        428 => "`If-Match` is missing.",
        _ => null,
    };

    /// <summary>Problems as the service writes them; the type URIs and titles are ASP.NET Core's defaults.</summary>
    public static JsonObject ProblemExample(int status, WriteKind? kind = null, Resource? resource = null)
    {
        var one = resource?.Singular ?? "firm";
        var id = resource?.ExampleId ?? "smic";
        var (section, title, detail) = status switch
        {
            400 => ("15.5.1", "One or more validation errors occurred.", null),
            401 => ("15.5.2", "Unauthorized", "The API key is not valid: it is unknown or revoked."),
            403 => ("15.5.4", "Forbidden", $"This API key lacks the '{ApiKeyStore.WriteScope}' scope that writes need."),
            404 => ("15.5.5", "Not Found", $"There is no {one} with id '{id}-2'."),
            409 when kind == WriteKind.Delete && Referrer(resource) is var (by, via, ids) =>
                ("15.5.10", "Conflict", $"The {one} '{id}' is still referenced by {by} {string.Join(", ", ids)} (by {via}). Change or delete those first."),
            409 => ("15.5.10", "Conflict", $"A {one} with id '{id}' exists already: give another id."),
            412 => ("15.5.13", "Precondition Failed", $"The {one} '{id}' has changed since that ETag was issued: GET it again and reapply the change."),
            413 => ("15.5.14", "Content Too Large", $"The body must be at most {WriteEndpoints.MaxBodyBytes / 1024} KiB."),
            415 => ("15.5.16", "Unsupported Media Type", $"Send the body as {WriteEndpoints.JsonMediaType}, in UTF-8."),
            422 => ("15.5.21", "Unprocessable Entity", "This Idempotency-Key was used with another request; use a new key for a new request."),
            428 => (null, "Precondition Required", $"Send If-Match with the {one}'s current ETag (from GET or the last write), or * for any version."),
            429 => (null, null, "Too many requests; retry after the number of seconds in Retry-After."),
            500 => ("15.6.1", "An error occurred while processing your request.", null),
            503 => ("15.6.4", "Service Unavailable", "The database is busy; retry shortly."),
            507 => (null, null, "The database has no room left for this write."),
            _ => (null, null, null),
        };
        var example = new JsonObject();
        if (section is not null) example["type"] = $"https://tools.ietf.org/html/rfc9110#section-{section}";
        if (title is not null) example["title"] = title;
        example["status"] = status;
        if (detail is not null) example["detail"] = detail;
        if (status == 400)
        {
            example["errors"] = kind is null
                ? new JsonObject { ["limit"] = new JsonArray("limit must be a whole number from 1 to 100.") }
                : new JsonObject { ["name"] = new JsonArray("name is required.") };
        }
        if (status == 409 && kind == WriteKind.Delete && Referrer(resource) is var (resourceName, relation, referrers))
        {
            example["references"] = new JsonArray(new JsonObject
            {
                ["resource"] = resourceName, ["via"] = relation,
                ["ids"] = new JsonArray([.. referrers.Select(r => (JsonNode)JsonValue.Create(r))]), ["more"] = false,
            });
        }
        example["traceId"] = "0af7651916cd43dd8448eb211c80319c";
        return example;
    }
}

/// <summary>The shared responses and headers the operations refer to, and a description for each tag.</summary>
public sealed class ComponentsFilter : IDocumentFilter
{
    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        var problem = context.SchemaGenerator.GenerateSchema(typeof(ProblemDetails), context.SchemaRepository);
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
                Description = "A strong entity tag of this representation: send it as `If-None-Match` to revalidate, or as `If-Match` to write.",
                Schema = ETag(),
            },
            [StandardResponsesFilter.LinkHeader] = new OpenApiHeader
            {
                Description = "`<url>; rel=\"next\"`: the absolute URL of the next page, when there is one.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 16384, Pattern = "^<[^>]+>; rel=\"next\"$" },
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
                    ["application/problem+json"] = new() { Schema = problem, Example = StandardResponsesFilter.ProblemExample(status) },
                },
            };
        }
        document.Components.Responses = new Dictionary<string, IOpenApiResponse>
        {
            [StandardResponsesFilter.TooManyRequests] = Problem(429,
                "Too many requests from this API key (or, without one, from this address) in the current minute: retry after `Retry-After` seconds.", true),
            [StandardResponsesFilter.InternalServerError] = Problem(500,
                "An unexpected fault; `traceId` finds it in the service's logs.", false),
            [StandardResponsesFilter.ServiceUnavailable] = Problem(503,
                "The database is busy, read-only or unavailable, or the request ran past its time limit: retry after `Retry-After` seconds when given.", true),
            [StandardResponsesFilter.InsufficientStorage] = Problem(507,
                "The database has no room left for this write: retry after `Retry-After` seconds.", true),
        };

        var descriptions = ResourceCatalog.All.ToDictionary(r => r.Title, r => r.Description);
        descriptions["Changes"] = "The change feed: every create, update and delete in commit order, to keep a copy of the dataset in sync.";
        foreach (var tag in document.Tags ?? new HashSet<OpenApiTag>())
        {
            if (tag.Name is { } name && descriptions.TryGetValue(name, out var description)) tag.Description = description;
        }
    }

    public static OpenApiSchema ETag() => new() { Type = JsonSchemaType.String, MaxLength = 66, Pattern = "^\"[0-9a-f]{32}\"$" };
}

/// <summary>Bounds that follow from a value's type alone: integers within their range, timestamps within their length.</summary>
public sealed class BoundsFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema concrete) return;
        var type = Nullable.GetUnderlyingType(context.Type) ?? context.Type;
        if (type == typeof(DateTime) || type == typeof(DateTimeOffset)) concrete.MaxLength ??= 40;
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

/// <summary>The shared records' constraints: pages, facet counts, citations and the change feed.</summary>
public sealed class SharedSchemaFilter : ISchemaFilter
{
    public void Apply(IOpenApiSchema schema, SchemaFilterContext context)
    {
        if (schema is not OpenApiSchema { Properties: { } properties } concrete) return;
        void Set(string name, Action<OpenApiSchema> change)
        {
            if (properties.TryGetValue(name, out var found) && found is OpenApiSchema property) change(property);
        }
        var type = context.Type;
        if (type.IsGenericType && type.GetGenericTypeDefinition() == typeof(Page<>))
        {
            concrete.Required = new HashSet<string>(["items", "next"]);
            Set("items", p => p.MaxItems = ListQuery.MaxLimit);
            Set("next", p => { p.MaxLength = 4096; p.Pattern = Schemas.Cursor().Pattern; });
            Set("total", p => { p.Minimum = "0"; p.Maximum = Schemas.MaxCounter; });
        }
        else if (type == typeof(ChangePage))
        {
            concrete.Required = new HashSet<string>(["items", "next"]);
            Set("items", p => p.MaxItems = ChangesApi.MaxLimit);
            Set("next", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
        }
        else if (type == typeof(Change))
        {
            concrete.Required = new HashSet<string>(properties.Keys);
            Set("seq", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
            Set("version", p => { p.Minimum = "1"; p.Maximum = Schemas.MaxCounter; });
            Schemas.AddResourceName(context.SchemaRepository);
            properties["resource"] = new OpenApiSchemaReference(Schemas.ResourceName, null);
            Set("id", p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; });
            concrete.Example = new JsonObject
            {
                ["seq"] = 28, ["resource"] = "firms", ["id"] = "smic", ["op"] = "updated", ["version"] = 2, ["at"] = "2026-01-01T00:00:00.000Z",
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
public sealed class ProblemSchemaFilter : ISchemaFilter
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
        Schemas.AddResourceName(context.SchemaRepository);
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
                        ["via"] = Schemas.Enum(ResourceCatalog.All.SelectMany(r => r.Relations).Select(r => r.Name)
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
