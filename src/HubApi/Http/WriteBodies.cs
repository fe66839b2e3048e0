using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Net.Http.Headers;
using static HubApi.Http.Problems;

namespace HubApi.Http;

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

/// <summary>What every write body goes through before it is validated: its media type, its size, its JSON, its preconditions.</summary>
public static class WriteBodies
{
    public const int MaxBodyBytes = 64 * 1024;
    public const string JsonMediaType = "application/json";
    public const string MergePatchMediaType = "application/merge-patch+json";

    private static readonly JsonDocumentOptions ParseOptions = new() { MaxDepth = 16, AllowDuplicateProperties = false };

    /// <summary>If-Match uses strong comparison (RFC 9110 13.1.1): weak tags never match; * matches any current record.</summary>
    public static bool Matches(IList<string> ifMatch, string etag)
    {
        if (!EntityTagHeaderValue.TryParseList(ifMatch, out var tags)) return false;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Equals(etag)));
    }

    public static ProblemHttpResult? RequireMediaType(HttpRequest request, string expected)
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

    /// <summary>Reads at most <paramref name="maxBytes"/> (<see cref="MaxBodyBytes"/>): a larger body is refused without being read to its end.</summary>
    public static async Task<(ReadOnlyMemory<byte> Body, ProblemHttpResult? Problem)> ReadBody(HttpRequest request, int maxBytes = MaxBodyBytes)
    {
        ProblemHttpResult TooLarge() => Problem(StatusCodes.Status413PayloadTooLarge, $"The body must be at most {maxBytes / 1024} KiB.", title: "Content Too Large");
        if (request.ContentLength > maxBytes) return (default, TooLarge());
        // One byte more than the body may be, to tell a body that is too large; no more than its declared length needs.
        var buffer = new byte[(int)Math.Min(request.ContentLength ?? maxBytes, maxBytes) + 1];
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
            return (default, Problem(e.StatusCode, $"The request body could not be read: {e.Message}"));
        }
        return length > maxBytes ? (default, TooLarge()) : (buffer.AsMemory(0, length), null);
    }

    public static ProblemHttpResult? Parse(ReadOnlySpan<byte> body, string indefinite, out JsonObject record)
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
        if (node is not JsonObject parsed) return Problem(StatusCodes.Status400BadRequest, $"The body must be a JSON object: {indefinite}.");
        record = parsed;
        return null;
    }
}
