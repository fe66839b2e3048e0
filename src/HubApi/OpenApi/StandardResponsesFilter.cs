using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Http;
using HubApi.Resources;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>
/// What every operation shares and its handler cannot declare: the answers any request can get (429 from the rate
/// limits, 503 from a busy database or the request time-out, 500), the headers of every answer (CORS, ETag, Link,
/// Retry-After), conditional GETs and the problems. Every problem an
/// operation declares is a reference to one shared response under components/responses (<see cref="SharedProblem"/>),
/// with its description and example, rather than a copy per operation. Registered last, so it completes what the
/// endpoint metadata and the other filters declared.
/// </summary>
public sealed class StandardResponsesFilter(ResourceCatalog catalog) : IOperationFilter
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
    public const string LocationHeader = "Location";

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var feed = metadata.OfType<FeedEndpoint>().FirstOrDefault();
        var export = metadata.OfType<ExportEndpoint>().FirstOrDefault();
        var write = metadata.OfType<WriteEndpoint>().FirstOrDefault();
        // A batch answers as a create does: a bad body (a bad row) is 400, a full disk 507.
        var writeKind = write?.Kind ?? (metadata.OfType<BatchEndpoint>().Any() ? WriteKind.Create : null);
        var resource = write?.Resource
                       ?? metadata.OfType<ItemEndpoint>().FirstOrDefault()?.Resource
                       ?? metadata.OfType<CollectionEndpoint>().FirstOrDefault()?.Parent;
        var document = context.Document;

        operation.Responses ??= [];
        var responses = operation.Responses;
        responses["429"] = new OpenApiResponseReference(TooManyRequests, document);
        responses["500"] = new OpenApiResponseReference(InternalServerError, document);
        responses["503"] = new OpenApiResponseReference(ServiceUnavailable, document);
        if (writeKind is not null and not WriteKind.Delete) responses["507"] = new OpenApiResponseReference(InsufficientStorage, document);

        // Nothing can point at a record of this resource: its delete is never refused with 409.
        if (write?.Kind == WriteKind.Delete && Referrer(catalog, resource) is null) responses.Remove("409");

        var isGet = context.ApiDescription.HttpMethod == "GET";
        if (isGet && responses.ContainsKey("304"))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(Schemas.Shared(document, "IfNoneMatch", () => new OpenApiParameter
            {
                Name = "If-None-Match",
                In = ParameterLocation.Header,
                Description = "The `ETag` of the copy you hold: when it still matches, the answer is 304 without a body.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 1024, Pattern = Schemas.EntityTagsPattern },
                Example = JsonValue.Create("\"7a0582dec8d9fe64430156a275e3124f\""),
            }));
        }

        foreach (var (status, response) in responses.ToList())
        {
            if (response is not OpenApiResponse concrete) continue;
            concrete.Headers ??= new Dictionary<string, IOpenApiHeader>();
            concrete.Headers["Access-Control-Allow-Origin"] = new OpenApiHeaderReference(CorsHeader, document);
            if (isGet && status is "200" or "304" && feed is not { Stream: true } && export is null)
                concrete.Headers["ETag"] = new OpenApiHeaderReference(ETagHeader, document);
            if (isGet && status == "200" && (metadata.OfType<CollectionEndpoint>().Any() || feed is { Stream: false }))
                concrete.Headers["Link"] = new OpenApiHeaderReference(LinkHeader, document);
            if (status == "304")
            {
                responses[status] = Schemas.Shared(document, "NotModified", () => new OpenApiResponse
                {
                    Description = "The copy named in `If-None-Match` is current: no body.",
                    Headers = new Dictionary<string, IOpenApiHeader>
                    {
                        [CorsHeader] = new OpenApiHeaderReference(CorsHeader, document),
                        [ETagHeader] = new OpenApiHeaderReference(ETagHeader, document),
                    },
                });
                continue;
            }
            if (concrete.Content is { } content && content.TryGetValue("application/problem+json", out var problem) && int.TryParse(status, out var code)
                && SharedProblem(code, writeKind) is { } name)
            {
                // The first operation to declare a problem lends it to the components, described for every operation alike.
                document.Components ??= new OpenApiComponents();
                document.Components.Responses ??= new Dictionary<string, IOpenApiResponse>();
                if (!document.Components.Responses.ContainsKey(name))
                {
                    concrete.Description = ProblemDescription(code, writeKind) ?? concrete.Description;
                    problem.Example = ProblemExample(code, catalog, writeKind, catalog.Example);
                    document.Components.Responses[name] = concrete;
                }
                responses[status] = new OpenApiResponseReference(name, document);
            }
        }

        // Success answers are shared too, each described once: a resource's list and every nested list of it answer the
        // same page; its GET, PUT and PATCH the same record; every DELETE the same empty answer, every batch the same summary.
        if (responses.FirstOrDefault(r => r.Key.StartsWith('2')) is not (var success, OpenApiResponse answer)) return;
        (string? Name, string? Description) shared = (success, write?.Kind) switch
        {
            _ when metadata.OfType<SharedAnswer>().FirstOrDefault() is { } same => (same.Name, null),
            ("200", _) when metadata.OfType<CollectionEndpoint>().FirstOrDefault() is { } collection => (collection.Resource.Title + "List", null),
            ("200", _) when metadata.OfType<FacetEndpoint>().FirstOrDefault() is { } facets => (facets.Resource.SingularTitle + "FacetCounts", null),
            ("200", null or WriteKind.Replace or WriteKind.Patch) when resource is not null && feed is null =>
                (resource.SingularTitle, $"The {resource.Singular}, as `GET` renders it, with its `ETag` (after a write, of the {resource.Singular} as written)."),
            ("201", WriteKind.Create) => (resource!.SingularTitle + "Created",
                $"The new {resource.Singular}, as `GET` renders it; its URL in `Location`, its `ETag` for the next write."),
            ("204", WriteKind.Delete) => ("Deleted", "The record is deleted; the change feed records it."),
            _ => (null, null),
        };
        if (shared.Name is null) return;
        if (shared.Description is not null) answer.Description = shared.Description;
        responses[success] = Schemas.Shared(document, shared.Name, () => answer);
    }

    /// <summary>
    /// The shared response (its name under components/responses) of a problem status; a 400 and a 409 each mean one
    /// thing for a read or a create and another for a write or a delete.
    /// </summary>
    public static string? SharedProblem(int status, WriteKind? kind) => status switch
    {
        400 => kind switch { null => "InvalidQuery", WriteKind.Delete => "InvalidHeader", _ => "InvalidBody" },
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "NotFound",
        408 => "RequestTimeout",
        409 => kind == WriteKind.Delete ? "StillReferenced" : "IdTaken",
        412 => "PreconditionFailed",
        413 => "ContentTooLarge",
        415 => "UnsupportedMediaType",
        422 => "IdempotencyKeyReused",
        428 => "PreconditionRequired",
        _ => null,
    };

    /// <summary>
    /// Who can keep a record from being deleted: a relation of another resource that targets it, or, for sources, the
    /// citations. With the records that do so in the dataset, for the example.
    /// </summary>
    public static (string Resource, string Via, List<string> Ids)? Referrer(ResourceCatalog catalog, Resource? target)
    {
        if (target is null) return null;
        (string, string, List<string>)? any = null;
        foreach (var resource in catalog.All)
        {
            foreach (var relation in resource.Relations.Where(r => r.Target == target.Name))
            {
                var ids = Examples.Records(resource)
                    .Where(r => r[relation.Name] is JsonArray many
                        ? many.Any(v => v?.GetValue<string>() == target.ExampleId)
                        : r[relation.Name] is JsonValue one && one.GetValue<string>() == target.ExampleId)
                    .Select(r => r["id"]!.GetValue<string>()).Take(3).ToList();
                if (ids.Count > 0) return (resource.Name, relation.Name, ids);
                any ??= (resource.Name, relation.Name, [resource.ExampleId]);
            }
        }
        if (target.Name == Citation.SourceResource)
        {
            foreach (var resource in catalog.All.Where(r => r != target))
            {
                var ids = Examples.Records(resource)
                    .Where(r => r["citations"] is JsonArray citations && citations.Any(c => c?["source"]?.GetValue<string>() == target.ExampleId))
                    .Select(r => r["id"]!.GetValue<string>()).Take(3).ToList();
                if (ids.Count > 0) return (resource.Name, "citations", ids);
            }
        }
        return any;
    }

    private static string? ProblemDescription(int status, WriteKind? kind) => status switch
    {
        400 when kind == WriteKind.Delete => "A header is malformed (`If-Match`, `X-Api-Key`): `errors` names it and says what it allows.",
        400 when kind is not null => "The body is not valid JSON, or not a valid record, or a header is malformed: `errors` names each property or header at fault and says what it allows.",
        400 => "A parameter or header is not valid: `errors` names each one at fault and says what it allows.",
        401 => $"No API key in `{ApiKeyAuthentication.Header}`, or one that is unknown or revoked.",
        403 => $"The API key lacks the `{ApiKeys.WriteScope}` scope.",
        404 => "There is no record with the id in the path (of the resource the path names first).",
        409 when kind == WriteKind.Delete => "Other records still point at this one: `references` lists them. Change or delete those first.",
        409 => "The id is taken, now or by a deleted record: ids are never reused.",
        408 => "The body did not arrive in time: less was sent than its `Content-Length` announced.",
        412 => "The record has changed since the ETag in `If-Match` was issued: GET it again and reapply the change.",
        413 => $"The body is larger than {WriteBodies.MaxBodyBytes / 1024} KiB.",
        415 => "The body is not sent with the media type the operation takes, in UTF-8.",
        422 => "The `Idempotency-Key` was used before with another body.",
        428 => "`If-Match` is missing.",
        _ => null,
    };

    /// <summary>Problems as the service writes them; the type URIs and titles are ASP.NET Core's defaults.</summary>
    public static JsonObject ProblemExample(int status, ResourceCatalog catalog, WriteKind? kind = null, Resource? resource = null)
    {
        var one = (resource ?? catalog.Example).Singular;
        var id = (resource ?? catalog.Example).ExampleId;
        var (section, title, detail) = status switch
        {
            400 => ("15.5.1", "One or more validation errors occurred.", null),
            401 => ("15.5.2", "Unauthorized", "The API key is not valid: it is unknown or revoked."),
            403 => ("15.5.4", "Forbidden", $"This API key lacks the '{ApiKeys.WriteScope}' scope that writes need."),
            404 => ("15.5.5", "Not Found", $"There is no {one} with id '{id}-2'."),
            409 when kind == WriteKind.Delete && Referrer(catalog, resource) is var (by, via, ids) =>
                ("15.5.10", "Conflict", $"The {one} '{id}' is still referenced by {by} {string.Join(", ", ids)} (by {via}). Change or delete those first."),
            409 => ("15.5.10", "Conflict", $"{(resource ?? catalog.Example).IndefiniteCapitalized} with id '{id}' exists already: give another id."),
            408 => ("15.5.9", "Request Timeout", "The request body could not be read: Reading the request body timed out due to data arriving too slowly. See MinRequestBodyDataRate."),
            412 => ("15.5.13", "Precondition Failed", $"The {one} '{id}' has changed since that ETag was issued: GET it again and reapply the change."),
            413 => ("15.5.14", "Content Too Large", $"The body must be at most {WriteBodies.MaxBodyBytes / 1024} KiB."),
            415 => ("15.5.16", "Unsupported Media Type", $"Send the body as {WriteBodies.JsonMediaType}, in UTF-8."),
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
            example["errors"] = kind switch
            {
                null => new JsonObject { ["limit"] = new JsonArray("limit must be a whole number from 1 to 100.") },
                WriteKind.Delete => new JsonObject { ["If-Match"] = new JsonArray(Problems.MalformedPreconditionError("If-Match")) },
                _ => new JsonObject { ["name"] = new JsonArray("name is required.") },
            };
        }
        if (status == 409 && kind == WriteKind.Delete && Referrer(catalog, resource) is var (resourceName, relation, referrers))
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
