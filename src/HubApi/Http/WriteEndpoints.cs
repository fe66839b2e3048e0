using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using HubApi.Data;
using HubApi.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Data.Sqlite;
using Microsoft.Net.Http.Headers;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.Http;

public enum WriteKind { Create, Replace, Patch, Delete }

/// <summary>Endpoint metadata for the write operations of a resource.</summary>
public sealed record WriteEndpoint(Resource Resource, WriteKind Kind);

/// <summary>A written record as GET renders it, with its ETag; also what an Idempotency-Key replay sends again.</summary>
public sealed class WrittenRecord(int status, byte[] body, string etag, string? location, bool replayed = false) : IResult, IStatusCodeHttpResult
{
    public int Status => status;
    int? IStatusCodeHttpResult.StatusCode => status;
    public byte[] Body => body;
    public string ETag => etag;
    public string? Location => location;

    public Task ExecuteAsync(HttpContext http)
    {
        var response = http.Response;
        response.StatusCode = status;
        response.Headers.ETag = etag;
        response.Headers.CacheControl = "no-cache";
        if (location is not null) response.Headers.Location = location;
        if (replayed) response.Headers["Idempotent-Replayed"] = "true";
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}

/// <summary>
/// The write endpoints every resource shares, driven by its definition: create, replace, merge-patch and delete.
/// Each write runs in one immediate transaction that checks the If-Match precondition against the record as it
/// is then, validates, writes the row, its links, citations, search entry and change-feed row, and renders the
/// response, so a check-then-write race cannot happen.
/// </summary>
public static class WriteEndpoints
{
    public const int MaxBodyBytes = 64 * 1024;
    public const string JsonMediaType = "application/json";
    public const string MergePatchMediaType = "application/merge-patch+json";

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 16, AllowDuplicateProperties = false };
    private static readonly Dictionary<Resource, RecordValidator> Validators = ResourceCatalog.All.ToDictionary(r => r, r => new RecordValidator(r));

    public static RouteGroupBuilder MapWrites(this RouteGroupBuilder group, Resource resource)
    {
        var writes = group.MapGroup("")
            .RequireAuthorization(ApiKeyAuthentication.WritePolicy)
            .RequireCors(HttpServices.WriteCorsPolicy);
        var one = resource.Singular;
        var title = resource.SingularTitle;
        var item = $"`GET /v1/{resource.Name}/{{id}}`";

        writes.MapPost("", (HttpContext http, Db db, ResourceReader reader, ResponseCache cache) => Create(http, db, reader, cache, resource))
            .WithName("Create" + title)
            .WithSummary($"Create a {one}")
            .WithDescription(
                $"Creates a {one}. `id` is derived from `name` when omitted; ids are never reused. Relations are written as ids, " +
                $"citations as `{{\"source\", \"quote\"}}` objects. Answers 201 with the record as {item} renders it, its `Location` " +
                $"and `ETag`. With an `Idempotency-Key`, a retry of the same request within {Idempotency.Lifetime.TotalHours:0} hours " +
                "gets the first response again instead of creating twice.")
            .Describe(resource, WriteKind.Create)
            .Produces(StatusCodes.Status201Created, resource.RecordType)
            .Problems(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status409Conflict,
                StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity);

        writes.MapPut("/{id}", (string id, HttpContext http, Db db, ResourceReader reader, ResponseCache cache) => Replace(id, http, db, reader, cache, resource))
            .WithName("Replace" + title)
            .WithSummary($"Replace a {one}")
            .WithDescription(
                $"Replaces every writable property of a {one}: omitted properties become null (lists empty). The body's `id`, if given, " +
                $"must be the URL's. Needs `If-Match` with the {one}'s current `ETag` (or `*`); answers 200 with the record as {item} " +
                "renders it and its new `ETag`.")
            .Describe(resource, WriteKind.Replace)
            .Produces(StatusCodes.Status200OK, resource.RecordType)
            .Problems(ChangeProblems);

        writes.MapPatch("/{id}", (string id, HttpContext http, Db db, ResourceReader reader, ResponseCache cache) => Patch(id, http, db, reader, cache, resource))
            .WithName("Patch" + title)
            .WithSummary($"Change part of a {one}")
            .WithDescription(
                $"Applies a JSON merge patch (RFC 7396, `{MergePatchMediaType}`) to the {one} as {item} renders it: members given " +
                "replace, `null` clears, the rest stay; lists are replaced whole. The result is validated as a full record. " +
                $"Needs `If-Match` with the {one}'s current `ETag` (or `*`); answers 200 with the record and its new `ETag`.")
            .Describe(resource, WriteKind.Patch)
            .Produces(StatusCodes.Status200OK, resource.RecordType)
            .Problems(ChangeProblems);

        writes.MapDelete("/{id}", (string id, HttpContext http, Db db, ResourceReader reader) => Delete(id, http, db, reader, resource))
            .WithName("Delete" + title)
            .WithSummary($"Delete a {one}")
            .WithDescription(
                $"Deletes a {one}; the change feed records the deletion. Refused with 409 while other records still point at it " +
                $"(the problem's `references` lists them). Needs `If-Match` with the {one}'s current `ETag` (or `*`).")
            .Describe(resource, WriteKind.Delete)
            .Produces(StatusCodes.Status204NoContent)
            .Problems(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
                StatusCodes.Status409Conflict, StatusCodes.Status412PreconditionFailed, StatusCodes.Status428PreconditionRequired);

        return writes;
    }

    private static async Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Create(
        HttpContext http, Db db, ResourceReader reader, ResponseCache cache, Resource resource)
    {
        var request = http.Request;
        if (RequireMediaType(request, JsonMediaType) is { } unsupported) return unsupported;
        string? key = null;
        if (request.Headers.TryGetValue(Idempotency.Header, out var keyValue))
        {
            key = keyValue.ToString();
            if (Idempotency.Check(key) is { } error) return Invalid(Idempotency.Header, error);
        }
        var (body, problem) = await ReadBody(request);
        if (problem is not null) return problem;
        if (Parse(body, resource, out var record) is { } malformed) return malformed;
        if (record["id"] is null && record["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String
            && RecordValidator.SlugFrom(name.GetValue<string>()) is { } slug)
        {
            record["id"] = slug;
        }

        var owner = http.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        var requestHash = key is null ? null : Idempotency.RequestHash(request, body);
        await using var write = await db.BeginWriteAsync(http.RequestAborted);
        var (connection, tx) = (write.Connection, write.Transaction);
        if (key is not null && Idempotency.Find(connection, tx, owner, key) is { } stored)
        {
            return stored.RequestHash == requestHash
                ? new WrittenRecord((int)stored.Status, stored.Body, stored.ETag!, stored.Location, replayed: true)
                : Problem(StatusCodes.Status422UnprocessableEntity,
                    $"This {Idempotency.Header} was used for a different request in the last {Idempotency.Lifetime.TotalHours:0} hours; " +
                    "use a new key for a new request.");
        }

        var validation = Validate(resource, record, null, connection, tx);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        var id = record["id"]!.GetValue<string>();
        if (ResourceReader.Exists(connection, resource, id, tx))
            return Problem(StatusCodes.Status409Conflict, $"There is already a {resource.Singular} with id '{id}'; give another id, or PUT to change that one.");
        if (RecordStore.WasUsed(connection, tx, resource, id))
            return Problem(StatusCodes.Status409Conflict, $"The id '{id}' belonged to a {resource.Singular} that was deleted; ids are never reused, so give another.");

        var now = Db.Now();
        RecordStore.Insert(connection, tx, resource, record, now);
        var written = Written(StatusCodes.Status201Created, connection, tx, reader, resource, id, request.PathBase + ItemPath(resource, id));
        if (key is not null) Idempotency.Save(connection, tx, owner, key, requestHash!, written, now);
        Complete(write, cache, request, resource, id, null, record, written);
        return written;
    }

    private static async Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Replace(
        string id, HttpContext http, Db db, ResourceReader reader, ResponseCache cache, Resource resource)
    {
        var request = http.Request;
        if (RequireMediaType(request, JsonMediaType) is { } unsupported) return unsupported;
        if (request.Headers.IfMatch.ToString() is not { Length: > 0 } ifMatch) return PreconditionRequired(resource);
        var (body, problem) = await ReadBody(request);
        if (problem is not null) return problem;
        if (Parse(body, resource, out var record) is { } malformed) return malformed;
        if (record["id"] is null) record["id"] = id;

        await using var write = await db.BeginWriteAsync(http.RequestAborted);
        var (connection, tx) = (write.Connection, write.Transaction);
        if (reader.Get(connection, resource, id, tx) is not { } current) return ResourceEndpoints.NotFound(resource, id);
        if (!Matches(request.Headers.IfMatch, Render(resource, current).ETag)) return Stale(resource, id);
        var validation = Validate(resource, record, id, connection, tx);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        RecordStore.Update(connection, tx, resource, id, record, current, Db.Now());
        var written = Written(StatusCodes.Status200OK, connection, tx, reader, resource, id, null);
        Complete(write, cache, request, resource, id, current, record, written);
        return written;
    }

    private static async Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Patch(
        string id, HttpContext http, Db db, ResourceReader reader, ResponseCache cache, Resource resource)
    {
        var request = http.Request;
        if (RequireMediaType(request, MergePatchMediaType) is { } unsupported) return unsupported;
        if (request.Headers.IfMatch.ToString() is not { Length: > 0 }) return PreconditionRequired(resource);
        var (body, problem) = await ReadBody(request);
        if (problem is not null) return problem;
        if (Parse(body, resource, out var patch) is { } malformed) return malformed;

        await using var write = await db.BeginWriteAsync(http.RequestAborted);
        var (connection, tx) = (write.Connection, write.Transaction);
        if (reader.Get(connection, resource, id, tx) is not { } current) return ResourceEndpoints.NotFound(resource, id);
        var rendered = Render(resource, current);
        if (!Matches(request.Headers.IfMatch, rendered.ETag)) return Stale(resource, id);

        var record = JsonNode.Parse(rendered.Body)!.AsObject();
        foreach (var name in Resource.ServerOwned) record.Remove(name);
        MergePatch.Apply(record, patch);
        // Naming a server-owned property is refused even as null, which the merge alone would drop silently.
        foreach (var name in Resource.ServerOwned.Where(patch.ContainsKey)) record[name] = patch[name]?.DeepClone();
        if (record["id"] is null) record["id"] = id;
        var validation = Validate(resource, record, id, connection, tx);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        RecordStore.Update(connection, tx, resource, id, record, current, Db.Now());
        var written = Written(StatusCodes.Status200OK, connection, tx, reader, resource, id, null);
        Complete(write, cache, request, resource, id, current, record, written);
        return written;
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> Delete(string id, HttpContext http, Db db, ResourceReader reader, Resource resource)
    {
        var request = http.Request;
        if (request.Headers.IfMatch.ToString() is not { Length: > 0 }) return PreconditionRequired(resource);

        await using var write = await db.BeginWriteAsync(http.RequestAborted);
        var (connection, tx) = (write.Connection, write.Transaction);
        if (reader.Get(connection, resource, id, tx) is not { } current) return ResourceEndpoints.NotFound(resource, id);
        if (!Matches(request.Headers.IfMatch, Render(resource, current).ETag)) return Stale(resource, id);
        var references = RecordStore.References(connection, tx, resource, id);
        if (references.Count > 0)
        {
            var list = string.Join("; ", references.Select(r => $"{r.Resource} {string.Join(", ", r.Ids)}{(r.More ? ", …" : "")} (by {r.Via})"));
            return Problem(StatusCodes.Status409Conflict,
                $"The {resource.Singular} '{id}' is still referenced by {list}. Change or delete those first.",
                new Dictionary<string, object?> { ["references"] = references });
        }

        RecordStore.Delete(connection, tx, resource, id, Db.Now());
        write.Complete(ResponseCache.Changes(resource, id, current, null));
        return TypedResults.NoContent();
    }

    private static ValidationResult Validate(Resource resource, JsonObject record, string? routeId, SqliteConnection connection, SqliteTransaction tx) =>
        Validators[resource].Validate(new RecordCandidate(record, routeId, (target, id) => ResourceReader.Exists(connection, target, id, tx)));

    private static JsonBody Render(Resource resource, Row row) => JsonBody.Render(w => RecordJson.WriteRecord(w, resource, row));

    private static WrittenRecord Written(int status, SqliteConnection connection, SqliteTransaction tx, ResourceReader reader,
        Resource resource, string id, string? location)
    {
        var rendered = Render(resource, reader.Get(connection, resource, id, tx)!);
        return new WrittenRecord(status, rendered.Body, rendered.ETag, location);
    }

    /// <summary>
    /// Ends a write with what it changed (the record <paramref name="before"/> and <paramref name="after"/> it). Its commit
    /// also keeps the written record, rendered as its GET renders it, as the answer to that GET, so the first read after a
    /// write runs no query.
    /// </summary>
    private static void Complete(WriteTransaction write, ResponseCache cache, HttpRequest request, Resource resource, string id,
        Row? before, JsonObject after, WrittenRecord written)
    {
        var key = ResponseCacheMiddleware.Key(request.Host, request.PathBase.Value, ItemPath(resource, id));
        write.Complete(ResponseCache.Changes(resource, id, before, after),
            cache.Prime(key, resource, id, new JsonBody(written.Body, etag: written.ETag)));
    }

    /// <summary>The URL path of a record, below the path base: its Location, and the GET its write's answer is kept for.</summary>
    private static string ItemPath(Resource resource, string id) => $"/v1/{resource.Name}/{id}";

    /// <summary>If-Match uses strong comparison (RFC 9110 13.1.1): weak tags never match; * matches any current record.</summary>
    private static bool Matches(IList<string> ifMatch, string etag)
    {
        if (!EntityTagHeaderValue.TryParseList(ifMatch, out var tags)) return false;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Equals(etag)));
    }

    private static ProblemHttpResult? RequireMediaType(HttpRequest request, string expected)
    {
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Equals(expected, StringComparison.OrdinalIgnoreCase)
            && (!type.Charset.HasValue || type.Charset.Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }
        if (expected == MergePatchMediaType)
        {
            request.HttpContext.Response.Headers["Accept-Patch"] = MergePatchMediaType;
            return Problem(StatusCodes.Status415UnsupportedMediaType,
                $"PATCH takes a JSON merge patch (RFC 7396): send it as {MergePatchMediaType}, in UTF-8.");
        }
        return Problem(StatusCodes.Status415UnsupportedMediaType, $"Send the body as {expected}, in UTF-8.");
    }

    /// <summary>Reads at most <see cref="MaxBodyBytes"/>: a larger body is refused without being read to its end.</summary>
    private static async Task<(byte[] Body, ProblemHttpResult? Problem)> ReadBody(HttpRequest request)
    {
        ProblemHttpResult TooLarge() => Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {MaxBodyBytes / 1024} KiB.", title: "Content Too Large");
        if (request.ContentLength > MaxBodyBytes) return ([], TooLarge());
        // One byte more than the body may be, to tell a body that is too large; no more than its declared length needs.
        var buffer = new byte[(int)Math.Min(request.ContentLength ?? MaxBodyBytes, MaxBodyBytes) + 1];
        var length = 0;
        try
        {
            while (length < buffer.Length)
            {
                var read = await request.Body.ReadAsync(buffer.AsMemory(length), request.HttpContext.RequestAborted);
                if (read == 0) break;
                length += read;
            }
        }
        catch (BadHttpRequestException e)
        {
            // The client stopped sending mid-body (or sent a malformed chunk): its mistake, answered as such, not a server error.
            return ([], Problem(e.StatusCode, $"The request body could not be read: {e.Message}"));
        }
        return length > MaxBodyBytes ? ([], TooLarge()) : (buffer[..length], null);
    }

    private static ProblemHttpResult? Parse(byte[] body, Resource resource, out JsonObject record)
    {
        record = [];
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: ParseOptions);
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
        }
        if (node is not JsonObject parsed) return Problem(StatusCodes.Status400BadRequest, $"The body must be a JSON object: a {resource.Singular}.");
        record = parsed;
        return null;
    }

    private static ProblemHttpResult PreconditionRequired(Resource resource) =>
        Problem(StatusCodes.Status428PreconditionRequired,
            $"Send If-Match with the {resource.Singular}'s current ETag (from GET or the last write), or * for any version.",
            title: "Precondition Required");

    private static ProblemHttpResult Stale(Resource resource, string id) =>
        Problem(StatusCodes.Status412PreconditionFailed,
            $"The {resource.Singular} '{id}' has changed since that ETag was issued: GET it again and reapply the change.");

    private static ValidationProblem Invalid(string name, string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [name] = [error] });

    private static ProblemHttpResult Problem(int status, string detail, IDictionary<string, object?>? extensions = null, string? title = null) =>
        TypedResults.Problem(statusCode: status, detail: detail, title: title, extensions: extensions);

    /// <summary>What the handler signatures cannot tell the OpenAPI document: the body, the headers and the key it needs.</summary>
    private static void Document(OpenApiOperation operation, OperationFilterContext context, Resource resource, WriteKind kind)
    {
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.Scheme, context.Document)] = [] }];
        operation.Parameters ??= [];
        if (kind == WriteKind.Create)
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = Idempotency.Header,
                In = ParameterLocation.Header,
                Description = $"A unique string per request (a UUID is best). A retry with the same key and body within {Idempotency.Lifetime.TotalHours:0} " +
                              "hours gets the first response again, marked `Idempotent-Replayed: true`; the same key with another body is refused with 422. " +
                              "Keys are scoped to the API key.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Idempotency.MaxKeyLength, Pattern = "^[\\x21-\\x7E]+$" },
                // No example: Swagger UI would pre-fill it, and every "Try it out" would then share one key.
            });
        }
        else
        {
            operation.Parameters.Add(new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = true,
                Description = $"The `ETag` of the {resource.Singular} as last read or written; `*` matches any version. " +
                              "Without it the answer is 428; when the record has changed since, 412.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 1024, Pattern = Schemas.EntityTagsPattern },
                Example = JsonValue.Create("\"0123456789abcdef0123456789abcdef\""),
            });
        }

        if (kind is WriteKind.Create or WriteKind.Replace)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"The {resource.Singular}'s writable properties, at most {MaxBodyBytes / 1024} KiB.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [JsonMediaType] = new() { Schema = context.SchemaGenerator.GenerateSchema(resource.InputType, context.SchemaRepository) },
                },
            };
        }
        else if (kind == WriteKind.Patch)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"A JSON merge patch of the {resource.Singular}, at most {MaxBodyBytes / 1024} KiB.",
                Content = new Dictionary<string, OpenApiMediaType> { [MergePatchMediaType] = new() { Schema = PatchSchema(context, resource) } },
            };
        }

        var success = kind switch { WriteKind.Create => "201", WriteKind.Delete => null, _ => "200" };
        if (success is not null && operation.Responses?.GetValueOrDefault(success) is OpenApiResponse response)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers["ETag"] = new OpenApiHeader { Description = "The new ETag of the record: the If-Match of the next write.", Schema = ComponentsFilter.ETag() };
            if (kind == WriteKind.Create)
            {
                response.Headers["Location"] = new OpenApiHeader
                {
                    Description = "The URL of the new record.",
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String, Format = "uri-reference", MaxLength = 2048 },
                };
            }
        }
    }

    /// <summary>The input schema without required properties: a merge patch names only what changes.</summary>
    private static IOpenApiSchema PatchSchema(OperationFilterContext context, Resource resource)
    {
        var id = resource.SingularTitle + "Patch";
        if (!context.SchemaRepository.Schemas.ContainsKey(id))
        {
            context.SchemaGenerator.GenerateSchema(resource.InputType, context.SchemaRepository);
            var input = (OpenApiSchema)context.SchemaRepository.Schemas[resource.InputType.Name];
            context.SchemaRepository.AddDefinition(id, new OpenApiSchema
            {
                Type = JsonSchemaType.Object,
                Description = $"A JSON merge patch (RFC 7396) of a {resource.Singular}: any of its writable properties; `null` clears one.",
                Properties = new Dictionary<string, IOpenApiSchema>(input.Properties ?? new Dictionary<string, IOpenApiSchema>()),
                AdditionalPropertiesAllowed = false,
                Example = new JsonObject { ["description"] = $"A corrected description of the {resource.Singular}." },
            });
        }
        return new OpenApiSchemaReference(id, context.Document);
    }

    /// <summary>What a replace or a merge-patch can be refused with.</summary>
    private static readonly int[] ChangeProblems =
    [
        StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
        StatusCodes.Status412PreconditionFailed, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType,
        StatusCodes.Status428PreconditionRequired,
    ];

    /// <summary>The metadata every write carries: its id parameter (all but create), its kind, and its documentation.</summary>
    private static RouteHandlerBuilder Describe(this RouteHandlerBuilder builder, Resource resource, WriteKind kind)
    {
        var docs = new OperationDocs((op, ctx) => Document(op, ctx, resource, kind));
        return kind == WriteKind.Create
            ? builder.WithMetadata(new WriteEndpoint(resource, kind), docs)
            : builder.WithMetadata(new ItemEndpoint(resource), new WriteEndpoint(resource, kind), docs);
    }

    private static RouteHandlerBuilder Problems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.ProducesProblem(status);
        return builder;
    }
}
