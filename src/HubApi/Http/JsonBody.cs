using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace HubApi.Http;

/// <summary>
/// A rendered JSON response with a strong ETag (a hash of its bytes) that answers a matching If-None-Match with 304.
/// </summary>
public sealed class JsonBody(byte[] body, string? link = null, string? etag = null) : IResult
{
    /// <summary>Served as application/json, never inlined in HTML: only what JSON requires is escaped.</summary>
    public static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public byte[] Body => body;
    public string ETag { get; } = etag ?? Of(body);

    public static JsonBody Render(Action<Utf8JsonWriter> write, string? link = null)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions)) write(writer);
        return new JsonBody(buffer.WrittenSpan.ToArray(), link);
    }

    public Task ExecuteAsync(HttpContext http)
    {
        var ifNoneMatch = http.Request.Headers.IfNoneMatch.ToString();
        // The usual revalidation sends back the one current tag: nothing to parse, as in Matches.
        if (ifNoneMatch.Length > 0 && ifNoneMatch != ETag && !IsEntityTagList(ifNoneMatch))
            return Problems.MalformedPrecondition(HeaderNames.IfNoneMatch).ExecuteAsync(http);
        var headers = http.Response.Headers;
        headers.ETag = ETag;
        // Clients may keep the response but must revalidate: a write is visible at once.
        headers.CacheControl = "no-cache";
        if (link is not null) headers.Link = link;
        if (Matches(ifNoneMatch, ETag))
        {
            http.Response.StatusCode = StatusCodes.Status304NotModified;
            return Task.CompletedTask;
        }
        http.Response.ContentType = "application/json; charset=utf-8";
        http.Response.ContentLength = body.Length;
        return http.Response.Body.WriteAsync(body).AsTask();
    }

    public static string Of(ReadOnlySpan<byte> bytes)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(bytes, hash);
        return "\"" + Convert.ToHexStringLower(hash[..16]) + "\"";
    }

    /// <summary>
    /// Whether a precondition header (If-Match, If-None-Match) is * or a list of entity tags (RFC 9110 8.8.3), in visible
    /// ASCII as every ETag this service gives is. Anything else, an unquoted tag or another encoding's bytes, is a client's
    /// mistake to report (400), not a tag that silently never matches.
    /// </summary>
    public static bool IsEntityTagList(StringValues values)
    {
        foreach (var value in values)
        {
            if (value is null || value.AsSpan().ContainsAnyExceptInRange(' ', '~')) return false;
        }
        // "*" stands alone (RFC 9110 13.1.1): beside tags it is a client's confusion, whichever it meant.
        return EntityTagHeaderValue.TryParseStrictList(values, out var tags) && (tags.Count == 1 || !tags.Contains(EntityTagHeaderValue.Any));
    }

    /// <summary>If-None-Match uses weak comparison (RFC 9110 13.1.2): W/ prefixes are ignored; * matches anything.</summary>
    public static bool Matches(string? ifNoneMatch, string etag)
    {
        if (string.IsNullOrEmpty(ifNoneMatch)) return false;
        if (ifNoneMatch == etag) return true; // the usual revalidation: one tag, the current one; nothing to parse
        if (EntityTagHeaderValue.TryParseList([ifNoneMatch], out var tags))
        {
            foreach (var tag in tags)
            {
                if (tag.Equals(EntityTagHeaderValue.Any) || tag.Tag.AsSpan().SequenceEqual(etag)) return true;
            }
        }
        return false;
    }
}
