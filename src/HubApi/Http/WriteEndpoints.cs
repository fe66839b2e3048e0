using System.Security.Claims;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using static HubApi.Http.Problems;
using static HubApi.Http.WriteBodies;

namespace HubApi.Http;

/// <summary>
/// The write endpoints every resource shares, driven by its definition: create, replace, merge-patch and delete.
/// Each write runs in one immediate transaction that checks the If-Match precondition against the record as it
/// is then, validates, writes the row, its links, citations, search entry and change-feed row, and renders the
/// response, so a check-then-write race cannot happen.
/// </summary>
public static class WriteEndpoints
{
    public static RouteGroupBuilder MapWrites(this RouteGroupBuilder group, Resource resource, ResourceCatalog catalog)
    {
        // Built on the first write, not at start-up (see QueryValidation).
        var validator = new Lazy<RecordValidator>(() => RecordValidator.For(resource, catalog.Sources));
        var writes = group.MapGroup("")
            .RequireAuthorization(ApiKeyAuthentication.WritePolicy)
            .RequireCors(HttpServices.WriteCorsPolicy);
        var one = resource.Singular;
        var title = resource.SingularTitle;

        writes.MapPost("", (HttpContext http, IStore store, ResponseCache cache) => Create(http, store, cache, resource, validator.Value))
            .ValidateBody(validator, resource, WriteKind.Create)
            .WithName("Create" + title)
            .WithSummary($"Create {resource.Indefinite}")
            .WithDescription(
                $"Creates {resource.Indefinite}; its `id` is derived from `name` when omitted.")
            .Describe(resource, WriteKind.Create)
            .Produces(StatusCodes.Status201Created)
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status408RequestTimeout,
                StatusCodes.Status409Conflict, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType, StatusCodes.Status422UnprocessableEntity);

        writes.MapPut("/{id}", (string id, HttpContext http, IStore store, ResponseCache cache) => Replace(id, http, store, cache, resource, validator.Value))
            .ValidateBody(validator, resource, WriteKind.Replace)
            .WithName("Replace" + title)
            .WithSummary($"Replace {resource.Indefinite}")
            .WithDescription(
                $"Replaces every writable property of the {one}: omitted ones become null (lists empty). The body's `id`, if given, must be the URL's.")
            .Describe(resource, WriteKind.Replace)
            .Produces(StatusCodes.Status200OK)
            .ProducesProblems(ChangeProblems);

        writes.MapPatch("/{id}", (string id, HttpContext http, IStore store, ResponseCache cache) => Patch(id, http, store, cache, resource, validator.Value))
            .ValidateBody(validator, resource, WriteKind.Patch)
            .WithName("Patch" + title)
            .WithSummary($"Change part of {resource.Indefinite}")
            .WithDescription(
                $"Applies a JSON merge patch to the {one} as `GET` renders it; the result is validated as a full record.")
            .Describe(resource, WriteKind.Patch)
            .Produces(StatusCodes.Status200OK)
            .ProducesProblems(ChangeProblems);

        writes.MapDelete("/{id}", (string id, HttpContext http, IStore store, ResponseCache cache) => Delete(id, http, store, cache, resource))
            .WithName("Delete" + title)
            .WithSummary($"Delete {resource.Indefinite}")
            .WithDescription(
                $"Deletes the {one}, unless other records still point at it.")
            .Describe(resource, WriteKind.Delete)
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblems(StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
                StatusCodes.Status409Conflict, StatusCodes.Status412PreconditionFailed, StatusCodes.Status428PreconditionRequired);

        return writes;
    }

    private static async Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Create(
        HttpContext http, IStore store, ResponseCache cache, Resource resource, RecordValidator validator)
    {
        var request = http.Request;
        var (body, record) = BodyValidation.Validated(http);
        var key = request.Headers.TryGetValue(Idempotency.Header, out var keyValue) ? keyValue.ToString() : null;
        var owner = http.User.FindFirstValue(ClaimTypes.NameIdentifier)!;
        var requestHash = key is null ? null : Idempotency.RequestHash(request, body.Span);
        await using var write = await store.BeginWriteAsync(ApiKeyAuthentication.KeyName(http.User), http.RequestAborted);
        if (key is not null && write.FindResponse(owner, key, DateTime.UtcNow - Idempotency.Lifetime) is { } stored)
        {
            return stored.RequestHash == requestHash
                ? new WrittenRecord((int)stored.Status, stored.Body, stored.ETag!, stored.Location, replayed: true)
                : Problem(StatusCodes.Status422UnprocessableEntity,
                    $"This {Idempotency.Header} was used for a different request in the last {Idempotency.Lifetime.TotalHours:0} hours; " +
                    "use a new key for a new request.");
        }

        // The body passed every other rule in BodyValidation; what it refers to must exist as this transaction sees it.
        var validation = validator.ValidateReferences(new RecordCandidate(record, null) { Exists = write.Exists });
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());
        var id = record["id"]!.GetValue<string>();
        if (write.Exists(resource, id))
            return Problem(StatusCodes.Status409Conflict, $"There is already {resource.Indefinite} with id '{id}'; give another id, or PUT to change that one.");
        if (write.WasUsed(resource, id))
            return Problem(StatusCodes.Status409Conflict, $"The id '{id}' belonged to {resource.Indefinite} that was deleted; ids are never reused, so give another.");

        write.Insert(resource, record);
        var written = Written(StatusCodes.Status201Created, write, resource, id, request.PathBase + ItemPath(resource, id));
        if (key is not null) write.SaveResponse(owner, key, new StoredResponse(requestHash!, written.Status, written.Location, written.ETag, written.Body));
        Complete(write, cache, request, resource, id, null, record, written);
        return written;
    }

    private static Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Replace(
        string id, HttpContext http, IStore store, ResponseCache cache, Resource resource, RecordValidator validator) =>
        Change(id, http, store, cache, resource, validator, _ => BodyValidation.Validated(http).Record, validateAll: false);

    /// <summary>
    /// BodyValidation refused a patch naming a server-owned property (even as null, which the merge would drop silently)
    /// and checked the members it names; the merged record must still be valid as a whole.
    /// </summary>
    private static Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Patch(
        string id, HttpContext http, IStore store, ResponseCache cache, Resource resource, RecordValidator validator) =>
        Change(id, http, store, cache, resource, validator, rendered =>
        {
            var record = JsonNode.Parse(rendered.Body)!.AsObject();
            foreach (var name in Resource.ServerOwned) record.Remove(name);
            MergePatch.Apply(record, BodyValidation.Validated(http).Record);
            if (record["id"] is null) record["id"] = id;
            return record;
        }, validateAll: true);

    /// <summary>
    /// Replaces a record inside one write: the record as it is now (404 when there is none), its ETag against If-Match
    /// (412), the new record <paramref name="from"/> its current rendering, validated as this transaction sees the
    /// database (every rule for a merged patch, the references for a body BodyValidation checked whole), then written.
    /// </summary>
    private static async Task<Results<WrittenRecord, ValidationProblem, ProblemHttpResult>> Change(string id, HttpContext http, IStore store,
        ResponseCache cache, Resource resource, RecordValidator validator, Func<JsonBody, JsonObject> from, bool validateAll)
    {
        await using var write = await store.BeginWriteAsync(ApiKeyAuthentication.KeyName(http.User), http.RequestAborted);
        if (write.Get(resource, id) is not { } current) return NotFound(resource, id);
        var rendered = Render(resource, current);
        if (!Matches(http.Request.Headers.IfMatch, rendered.ETag)) return Stale(resource, id);
        var record = from(rendered);
        var candidate = new RecordCandidate(record, id) { Exists = write.Exists };
        var validation = validateAll ? validator.ValidateAll(candidate) : validator.ValidateReferences(candidate);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        write.Update(resource, id, record, current);
        var written = Written(StatusCodes.Status200OK, write, resource, id, null);
        Complete(write, cache, http.Request, resource, id, current, record, written);
        return written;
    }

    private static async Task<Results<NoContent, ValidationProblem, ProblemHttpResult>> Delete(string id, HttpContext http, IStore store,
        ResponseCache cache, Resource resource)
    {
        var request = http.Request;
        switch (RequireIfMatch(request, resource))
        {
            case ProblemHttpResult required: return required;
            case ValidationProblem malformed: return malformed;
        }

        await using var write = await store.BeginWriteAsync(ApiKeyAuthentication.KeyName(http.User), http.RequestAborted);
        if (write.Get(resource, id) is not { } current) return NotFound(resource, id);
        if (!Matches(request.Headers.IfMatch, Render(resource, current).ETag)) return Stale(resource, id);
        var references = write.References(resource, id);
        if (references.Count > 0)
        {
            var list = string.Join("; ", references.Select(r => $"{r.Resource} {string.Join(", ", r.Ids)}{(r.More ? ", …" : "")} (by {r.Via})"));
            return Problem(StatusCodes.Status409Conflict,
                $"The {resource.Singular} '{id}' is still referenced by {list}. Change or delete those first.",
                new Dictionary<string, object?> { ["references"] = references });
        }

        write.Delete(resource, id);
        write.Complete(cache.Changes(resource, id, current, null));
        return TypedResults.NoContent();
    }

    private static JsonBody Render(Resource resource, Row row) => JsonBody.Render(w => RecordJson.WriteRecord(w, resource, row));

    private static WrittenRecord Written(int status, IRecordSource records, Resource resource, string id, string? location)
    {
        var rendered = Render(resource, records.Get(resource, id)!);
        return new WrittenRecord(status, rendered.Body, rendered.ETag, location);
    }

    /// <summary>
    /// Ends a write with what it changed (the record <paramref name="before"/> and <paramref name="after"/> it). Its commit
    /// also keeps the written record, rendered as its GET renders it, as the answer to that GET, so the first read after a
    /// write runs no query.
    /// </summary>
    private static void Complete(IWriteSession write, ResponseCache cache, HttpRequest request, Resource resource, string id,
        Row? before, JsonObject after, WrittenRecord written)
    {
        var key = ResponseCacheMiddleware.Key(request.Scheme, request.Host, request.PathBase.Value, ItemPath(resource, id));
        write.Complete(cache.Changes(resource, id, before, after),
            cache.Prime(key, resource, id, new JsonBody(written.Body, etag: written.ETag)));
    }

    /// <summary>The URL path of a record, below the path base: its Location, and the GET its write's answer is kept for.</summary>
    private static string ItemPath(Resource resource, string id) => $"/v1/{resource.Name}/{id}";

    /// <summary>What a replace or a merge-patch can be refused with.</summary>
    private static readonly int[] ChangeProblems =
    [
        StatusCodes.Status401Unauthorized, StatusCodes.Status403Forbidden, StatusCodes.Status404NotFound,
        StatusCodes.Status408RequestTimeout, StatusCodes.Status412PreconditionFailed, StatusCodes.Status413PayloadTooLarge, StatusCodes.Status415UnsupportedMediaType,
        StatusCodes.Status428PreconditionRequired,
    ];

    /// <summary>What every write carries: its id parameter (all but create) and its kind, which the OpenAPI document reads.</summary>
    private static RouteHandlerBuilder Describe(this RouteHandlerBuilder builder, Resource resource, WriteKind kind) =>
        kind == WriteKind.Create
            ? builder.WithMetadata(new WriteEndpoint(resource, kind))
            : builder.WithMetadata(new ItemEndpoint(resource), new WriteEndpoint(resource, kind));

    private static RouteHandlerBuilder ProducesProblems(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses) builder.ProducesProblem(status);
        return builder;
    }
}
