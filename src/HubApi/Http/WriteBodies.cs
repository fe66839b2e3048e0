using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Unicode;
using HubApi.Resources;
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

    /// <summary>If-Match uses strong comparison (RFC 9110 13.1.1): weak tags never match; * matches any current record.</summary>
    public static bool Matches(IList<string> ifMatch, string etag)
    {
        if (!EntityTagHeaderValue.TryParseList(ifMatch, out var tags)) return false;
        return tags.Any(t => t.Equals(EntityTagHeaderValue.Any) || (!t.IsWeak && t.Tag.Equals(etag)));
    }

    /// <summary>The If-Match a replace, patch or delete needs: 428 without one, 400 when it is malformed.</summary>
    public static IResult? RequireIfMatch(HttpRequest request, Resource resource)
    {
        var ifMatch = request.Headers.IfMatch;
        if (ifMatch.ToString() is not { Length: > 0 }) return PreconditionRequired(resource);
        return JsonBody.IsEntityTagList(ifMatch) ? null : MalformedPrecondition(HeaderNames.IfMatch);
    }

    /// <summary>
    /// The body's media type must be <paramref name="expected"/> in UTF-8 (a charset parameter, if any, says utf-8), sent
    /// as is: another type, charset or content coding is 415, with the header that says what would be taken.
    /// </summary>
    public static ProblemHttpResult? RequireMediaType(HttpRequest request, string expected)
    {
        if (request.Headers.ContentEncoding.ToString() is { Length: > 0 } coding && !coding.Equals("identity", StringComparison.OrdinalIgnoreCase))
        {
            request.HttpContext.Response.Headers.AcceptEncoding = "identity";
            return Problem(StatusCodes.Status415UnsupportedMediaType, "Send the body without a Content-Encoding: no content coding is accepted.");
        }
        if (MediaTypeHeaderValue.TryParse(request.ContentType, out var type)
            && type.MediaType.Equals(expected, StringComparison.OrdinalIgnoreCase)
            && (!type.Charset.HasValue || HeaderUtilities.RemoveQuotes(type.Charset).Equals("utf-8", StringComparison.OrdinalIgnoreCase)))
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

    /// <summary>
    /// Parses a body as one JSON object, checking first what a JSON parser leaves for the moment a value is read, so that
    /// no later step meets text it cannot handle: the bytes are UTF-8 (RFC 8259 §8.1; a UTF-8 byte-order mark is ignored,
    /// as §8.1 allows; UTF-16 and UTF-32 are 415), every string and member name is Unicode text (no surrogate escaped
    /// alone, as <c>"\ud800"</c>), none holds U+0000 (PostgreSQL cannot store it, and no record has a use for it), and every
    /// number fits a double (RFC 8259 §6: no infinity for <c>1e400</c>, no silent zero for <c>1e-400</c>). Duplicate members,
    /// nesting deeper than <see cref="MaxDepth"/> and anything after the value are 400s.
    /// </summary>
    public static ProblemHttpResult? Parse(ReadOnlySpan<byte> body, string indefinite, out JsonObject record)
    {
        record = [];
        if (ParseJson(body, MaxDepth, out var node) is { } problem) return problem;
        if (node is not JsonObject parsed) return Problem(StatusCodes.Status400BadRequest, $"The body must be a JSON object: {indefinite}.");
        record = parsed;
        return null;
    }

    /// <summary>
    /// Parses JSON text with every check <see cref="Parse"/> describes, nesting at most <paramref name="maxDepth"/> deep
    /// (a batch's array of records is one level deeper than a record): the problem when it cannot be read.
    /// </summary>
    public static ProblemHttpResult? ParseJson(ReadOnlySpan<byte> body, int maxDepth, out JsonNode? node)
    {
        node = null;
        if (body.StartsWith(Utf8Bom)) body = body[Utf8Bom.Length..];
        if (IsUtf16Or32(body))
            return Problem(StatusCodes.Status415UnsupportedMediaType, "The body is in UTF-16 or UTF-32: send JSON in UTF-8.");
        try
        {
            if (Unreadable(body, maxDepth) is { } unreadable) return Problem(StatusCodes.Status400BadRequest, unreadable);
            node = JsonNode.Parse(body, documentOptions: new JsonDocumentOptions { MaxDepth = maxDepth, AllowDuplicateProperties = false });
        }
        catch (JsonException e)
        {
            return Problem(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {e.Message}");
        }
        return null;
    }

    /// <summary>How deep a body's objects and arrays may nest: a record needs 3 (record, citations, citation).</summary>
    public const int MaxDepth = 16;

    private static ReadOnlySpan<byte> Utf8Bom => [0xEF, 0xBB, 0xBF];

    /// <summary>
    /// A UTF-16 or UTF-32 body, by its byte-order mark or, without one, by the NUL bytes its first character brings
    /// (a JSON text starts with an ASCII character: RFC 4627 §3).
    /// </summary>
    private static bool IsUtf16Or32(ReadOnlySpan<byte> body) =>
        body.StartsWith((ReadOnlySpan<byte>)[0xFF, 0xFE]) || body.StartsWith((ReadOnlySpan<byte>)[0xFE, 0xFF])
        || (body.Length >= 2 && (body[0] == 0 || body[1] == 0));

    /// <summary>Why the body's text cannot be read as UTF-8 JSON of Unicode strings and double-sized numbers; null when it can.</summary>
    /// <exception cref="JsonException">The body is not JSON.</exception>
    private static string? Unreadable(ReadOnlySpan<byte> body, int maxDepth)
    {
        if (!Utf8.IsValid(body))
        {
            Utf8.ToUtf16(body, new char[body.Length], out var valid, out _, replaceInvalidSequences: false);
            return $"The body is not valid UTF-8: the bytes at offset {valid} are not a UTF-8 sequence (a truncated, overlong or surrogate one, or another encoding).";
        }
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = maxDepth });
        var member = "the body";
        while (reader.Read())
        {
            switch (reader.TokenType)
            {
                // Unescaped text is the UTF-8 checked above, and JSON allows no raw control character: only escapes can go wrong.
                case JsonTokenType.PropertyName or JsonTokenType.String when reader.ValueIsEscaped:
                    if (Unescaped(ref reader) is not { } text)
                        return $"A string in {member} escapes half of a surrogate pair (such as \\ud800 alone): strings must be Unicode text.";
                    if (text.Contains('\0')) return $"A string in {member} holds U+0000 (\\u0000), which no text may hold.";
                    if (reader.TokenType == JsonTokenType.PropertyName) member = $"'{Trim(text)}'";
                    break;
                case JsonTokenType.PropertyName:
                    member = $"'{Trim(reader.GetString()!)}'";
                    break;
                case JsonTokenType.Number:
                    if (!reader.TryGetDouble(out var number) || !double.IsFinite(number))
                        return $"A number in {member} is too large: numbers must fit a double (at most about 1.8e308).";
                    if (number == 0 && !IsZero(reader.ValueSpan))
                        return $"A number in {member} is too small: it would round to 0 as a double (the smallest is about 5e-324).";
                    break;
            }
        }
        return null;
    }

    /// <summary>An escaped string or member name, unescaped; null when its escapes name a lone surrogate.</summary>
    private static string? Unescaped(ref Utf8JsonReader reader)
    {
        try
        {
            return reader.GetString();
        }
        catch (InvalidOperationException)
        {
            return null;
        }
    }

    /// <summary>Whether a JSON number is written as zero: no digit but 0 before its exponent.</summary>
    private static bool IsZero(ReadOnlySpan<byte> number)
    {
        var exponent = number.IndexOfAny((byte)'e', (byte)'E');
        return (exponent < 0 ? number : number[..exponent]).IndexOfAny("123456789"u8) < 0;
    }

    private static string Trim(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
