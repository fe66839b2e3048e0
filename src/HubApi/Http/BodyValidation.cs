using System.Text.Json;
using System.Text.Json.Nodes;
using HubApi.Query;
using HubApi.Resources;
using static HubApi.Http.Problems;
using static HubApi.Http.WriteBodies;

namespace HubApi.Http;

/// <summary>A write's body as <see cref="BodyValidation"/> read and validated it.</summary>
/// <param name="Bytes">The body as sent, which an Idempotency-Key replay must match.</param>
/// <param name="Record">The body parsed: a record (its id filled in from the name or the URL), or a merge patch.</param>
public sealed record WriteBody(ReadOnlyMemory<byte> Bytes, JsonObject Record);

/// <summary>
/// The one filter that reads and validates write bodies, the counterpart of <see cref="QueryValidation"/>. In the order
/// clients see: the media type and coding (415), the headers the write needs (428 without If-Match, 400 for a malformed
/// If-Match or Idempotency-Key), the size (413), the text's encoding (415 for UTF-16/32, 400 for bytes that are not UTF-8)
/// and the JSON (400); then every rule that needs no database (a record's shape, types,
/// lengths and required members; a patch's members as it names them), so that a body that fails never waits for the
/// write lock. The handler reads the parsed body and runs <see cref="RecordValidator.References"/> inside its transaction.
/// </summary>
public sealed class BodyValidation(Lazy<RecordValidator> validator, Resource resource, WriteKind kind) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var request = http.Request;
        if (RequireMediaType(request, kind == WriteKind.Patch ? MergePatchMediaType : JsonMediaType) is { } unsupported) return unsupported;
        if (kind == WriteKind.Create)
        {
            if (request.Headers.TryGetValue(Idempotency.Header, out var key) && Idempotency.Check(key) is { } error)
                return Invalid(Idempotency.Header, error);
        }
        else if (RequireIfMatch(request, resource) is { } precondition) return precondition;
        var (body, problem) = await ReadBody(request);
        if (problem is not null) return problem;
        if (Parse(body.Span, resource.Indefinite, out var record) is { } malformed) return malformed;

        // A record's id when the body has none: the URL's (PUT), or one derived from the name (POST); a patch keeps the record's.
        var routeId = request.RouteValues["id"] as string;
        if (record["id"] is null)
        {
            if (kind == WriteKind.Replace) record["id"] = routeId;
            else if (kind == WriteKind.Create && record["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String
                && Ids.From(name.GetValue<string>()) is { } slug)
            {
                record["id"] = slug;
            }
        }
        var result = validator.Value.Validate(new RecordCandidate(record, routeId, IsPatch: kind == WriteKind.Patch));
        if (!result.IsValid) return TypedResults.ValidationProblem(result.ToDictionary());
        http.Items[typeof(WriteBody)] = new WriteBody(body, record);
        return await next(context);
    }

    /// <summary>The body as this filter read and validated it.</summary>
    public static WriteBody Validated(HttpContext http) =>
        http.Items[typeof(WriteBody)] as WriteBody ?? throw new InvalidOperationException("The endpoint has no body validation filter.");
}

public static class BodyValidationExtensions
{
    /// <summary>
    /// Reads and validates the write's body with <paramref name="validator"/> (see <see cref="BodyValidation"/>). Adds no
    /// response metadata: the handler's typed results already declare the 400, so the document keeps its order.
    /// </summary>
    public static RouteHandlerBuilder ValidateBody(this RouteHandlerBuilder builder, Lazy<RecordValidator> validator, Resource resource, WriteKind kind) =>
        builder.AddEndpointFilter(new BodyValidation(validator, resource, kind));
}
