using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>
/// One hostile request: its body as bytes, its headers as the service reads them (Latin-1: one character per byte).
/// <paramref name="Expected"/> is the status it must get; <see cref="HostileRequests.Accepted"/> marks the few that are
/// taken on purpose (a UTF-8 byte-order mark, a quoted charset).
/// </summary>
public sealed record HostileRequest(string Name, string Method, string Path, byte[]? Body, string? ContentType, (string Name, string Value)[] Headers, int Expected)
{
    public override string ToString() => $"{Method} {Path}: {Name}";
}

/// <summary>
/// The catalogue of hostile bodies and headers: each named case and the status it gets. Bodies go to every body-taking
/// write of one resource (projects: a number field, relations and citations), headers to the operations that read them.
/// </summary>
public static class HostileRequests
{
    public const string Key = "test-admin-key-0123456789"; // WriteTest.AdminKey, which the in-memory tests start with
    public const string Resource = "projects";
    public const string Id = "smic-lingang-wafer-plant";
    public const int Accepted = 0;

    private static byte[] Utf8(string text) => Encoding.UTF8.GetBytes(text);
    private static byte[] Bytes(params object[] parts) =>
        [.. parts.SelectMany(p => p switch { string s => Utf8(s), byte[] b => b, byte b => [b], _ => throw new ArgumentException() })];

    /// <summary>Bodies, each with its status; PUT and PATCH get the same (a full record needs only a name).</summary>
    public static readonly (string Name, byte[] Body, int Status)[] Bodies =
    [
        ("lone high surrogate", Utf8("""{"name":"\ud800"}"""), 400),
        ("lone low surrogate", Utf8("""{"name":"x\udc00y"}"""), 400),
        ("reversed surrogates", Utf8("""{"name":"\udc00\ud800"}"""), 400),
        ("lone surrogate in a member name", Utf8("""{"name":"Surrogate","\ud800":1}"""), 400),
        ("lone surrogate in a citation quote", Utf8("""{"name":"Cited","citations":[{"source":"shanghai-digital-hub","quote":"a\ud83d"}]}"""), 400),
        ("bytes FF FE in a string", Bytes("{\"name\":\"", (byte)0xFF, (byte)0xFE, "\"}"), 400),
        ("overlong C0 AF", Bytes("{\"name\":\"a", (byte)0xC0, (byte)0xAF, "\"}"), 400),
        ("encoded surrogate ED A0 80", Bytes("{\"name\":\"", (byte)0xED, (byte)0xA0, (byte)0x80, "\"}"), 400),
        ("truncated sequence E4 B8", Bytes("{\"name\":\"", (byte)0xE4, (byte)0xB8, "\"}"), 400),
        ("truncated sequence at the end", Bytes("{\"name\":\"a\"}", (byte)0xF0, (byte)0x9F), 400),
        ("lone continuation byte", Bytes("{\"name\":\"", (byte)0x80, "\"}"), 400),
        ("five-byte sequence", Bytes("{\"name\":\"", (byte)0xF8, (byte)0x88, (byte)0x80, (byte)0x80, (byte)0x80, "\"}"), 400),
        ("UTF-8 byte-order mark", Bytes((byte)0xEF, (byte)0xBB, (byte)0xBF, "{\"name\":\"Bom Project\"}"), Accepted),
        ("UTF-16LE byte-order mark", [0xFF, 0xFE, .. Encoding.Unicode.GetBytes("""{"name":"Utf16"}""")], 415),
        ("UTF-16BE byte-order mark", [0xFE, 0xFF, .. Encoding.BigEndianUnicode.GetBytes("""{"name":"Utf16"}""")], 415),
        ("UTF-16 without a byte-order mark", Encoding.Unicode.GetBytes("""{"name":"Utf16"}"""), 415),
        ("UTF-32 byte-order mark", [0xFF, 0xFE, 0x00, 0x00, .. Encoding.UTF32.GetBytes("""{"name":"Utf32"}""")], 415),
        ("raw NUL in a string", Bytes("{\"name\":\"a", (byte)0x00, "b\"}"), 400),
        ("escaped NUL in a string", Utf8("""{"name":"a\u0000b"}"""), 400),
        ("escaped NUL in a member name", Utf8("""{"name":"Nul","a\u0000":1}"""), 400),
        ("raw NUL after the value", Bytes("{\"name\":\"Nul\"}", (byte)0x00), 400),
        ("huge exponent", Utf8("""{"name":"Huge","investmentUsd":1e400}"""), 400),
        ("huge negative exponent", Utf8("""{"name":"Huge","investmentUsd":-1E+400}"""), 400),
        ("tiny exponent", Utf8("""{"name":"Tiny","investmentUsd":1e-400}"""), 400),
        ("400-digit integer", Utf8("""{"name":"Long","investmentUsd":""" + new string('9', 400) + "}"), 400),
        ("400-digit fraction", Utf8("""{"name":"Long","investmentUsd":0.""" + new string('0', 399) + "1e-10}"), 400),
        ("10,000-deep arrays", Utf8("""{"name":""" + new string('[', 10_000) + new string(']', 10_000) + "}"), 400),
        ("10,000-deep objects", Utf8(string.Concat(Enumerable.Repeat("""{"a":""", 10_000)) + "1" + new string('}', 10_000)), 400),
        ("duplicate key", Utf8("""{"name":"One","name":"Two"}"""), 400),
        ("duplicate key, escaped", Utf8("""{"name":"One","n\u0061me":"Two"}"""), 400),
        ("duplicate key in a citation", Utf8("""{"name":"Dup","citations":[{"source":"shanghai-digital-hub","source":"x","quote":"q"}]}"""), 400),
        ("trailing garbage", Utf8("""{"name":"Trailing"} x"""), 400),
        ("two values", Utf8("""{"name":"One"}{"name":"Two"}"""), 400),
        ("trailing comma", Utf8("""{"name":"Comma",}"""), 400),
        ("a comment", Utf8("""{"name":"Comment"/* hi */}"""), 400),
        ("single quotes", Utf8("{'name':'Quotes'}"), 400),
        ("NaN", Utf8("""{"name":"NaN","investmentUsd":NaN}"""), 400),
        ("empty body", [], 400),
        ("whitespace only", Utf8(" \r\n\t "), 400),
        ("not an object", Utf8("[]"), 400),
        ("truncated JSON", Utf8("""{"name":"Trunc"""), 400),
        ("over 64 KiB", Utf8("""{"name":"Big","description":""" + "\"" + new string('x', 70_000) + "\"}"), 413),
    ];

    /// <summary>Every body case on POST, PUT and PATCH of one record.</summary>
    public static IEnumerable<HostileRequest> BodyCases() =>
        from body in Bodies
        from write in new[] { ("POST", $"/v1/{Resource}"), ("PUT", $"/v1/{Resource}/{Id}"), ("PATCH", $"/v1/{Resource}/{Id}") }
        select new HostileRequest(body.Name, write.Item1, write.Item2, body.Body,
            write.Item1 == "PATCH" ? Writes.MergePatch : "application/json", Keyed(write.Item1 == "POST" ? [] : [("If-Match", "*")]),
            body.Status == Accepted ? (write.Item1 == "POST" ? 201 : 200) : body.Status);

    private static (string, string)[] Keyed((string, string)[] headers) => [("X-Api-Key", Key), .. headers];

    /// <summary>
    /// Header values a client cannot mean: bytes of another encoding (as Latin-1 characters), controls, and values of the
    /// wrong shape. Each is 400 on every operation that reads the header.
    /// </summary>
    public static readonly string[] HeaderValues =
    [
        "\u00c3\u00a9t\u00c3\u00a9", // "été" in UTF-8, read byte by byte
        "\u00ff\u00fe",              // FF FE
        "\u00c0\u00af",              // overlong C0 AF
        "\u00ed\u00a0\u0080",        // ED A0 80
        "a\u0001b",
        "a\u007fb",
    ];

    public static IEnumerable<HostileRequest> HeaderCases()
    {
        var record = $"/v1/{Resource}/{Id}";
        var valid = Utf8("""{"name":"Header Project"}""");
        var patch = Utf8("""{"description":"Header"}""");
        foreach (var value in HeaderValues.Concat(["\"" + HeaderValues[0] + "\""]))
        {
            var shown = "'" + string.Concat(value.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:X2}")) + "'";
            // A key that is no key at all is malformed (400); a quoted one is still not a key's characters.
            yield return new($"X-Api-Key {shown}", "POST", $"/v1/{Resource}", valid, "application/json", [("X-Api-Key", value)], 400);
            yield return new($"X-Api-Key {shown}", "DELETE", record, null, null, [("X-Api-Key", value), ("If-Match", "*")], 400);
            yield return new($"Idempotency-Key {shown}", "POST", $"/v1/{Resource}", valid, "application/json", Keyed([("Idempotency-Key", value)]), 400);
            yield return new($"If-Match {shown}", "PUT", record, valid, "application/json", Keyed([("If-Match", value)]), 400);
            yield return new($"If-Match {shown}", "PATCH", record, patch, Writes.MergePatch, Keyed([("If-Match", value)]), 400);
            yield return new($"If-Match {shown}", "DELETE", record, null, null, Keyed([("If-Match", value)]), 400);
            yield return new($"If-None-Match {shown}", "GET", record, null, null, [("If-None-Match", value)], 400);
            yield return new($"If-None-Match {shown}", "GET", $"/v1/{Resource}?limit=2", null, null, [("If-None-Match", value)], 400);
        }
        foreach (var unquoted in new[] { "abc", "W/abc", "\"abc", "*, \"abc\"" })
        {
            yield return new($"If-Match '{unquoted}'", "PATCH", record, patch, Writes.MergePatch, Keyed([("If-Match", unquoted)]), 400);
            yield return new($"If-Match '{unquoted}'", "DELETE", record, null, null, Keyed([("If-Match", unquoted)]), 400);
            yield return new($"If-None-Match '{unquoted}'", "GET", record, null, null, [("If-None-Match", unquoted)], 400);
        }
        yield return new("two X-Api-Key headers", "POST", $"/v1/{Resource}", valid, "application/json", [("X-Api-Key", Key), ("X-Api-Key", Key)], 400);
        yield return new("two Idempotency-Key headers", "POST", $"/v1/{Resource}", valid, "application/json", Keyed([("Idempotency-Key", "a"), ("Idempotency-Key", "b")]), 400);
        yield return new("charset latin1", "POST", $"/v1/{Resource}", valid, "application/json; charset=latin1", Keyed([]), 415);
        yield return new("charset iso-8859-1", "PUT", record, valid, "application/json; charset=iso-8859-1", Keyed([("If-Match", "*")]), 415);
        yield return new("charset utf-16", "POST", $"/v1/{Resource}", Encoding.Unicode.GetBytes("""{"name":"Utf16"}"""), "application/json; charset=utf-16", Keyed([]), 415);
        yield return new("charset utf-16 on a patch", "PATCH", record, patch, Writes.MergePatch + "; charset=utf-16", Keyed([("If-Match", "*")]), 415);
        yield return new("charset with bytes beyond ASCII", "POST", $"/v1/{Resource}", valid, "application/json; charset=\u00c3\u00a9", Keyed([]), 415);
        yield return new("charset \"UTF-8\" quoted", "POST", $"/v1/{Resource}", Utf8("""{"name":"Quoted Charset"}"""), "application/json; charset=\"UTF-8\"", Keyed([]), 201);
        yield return new("Content-Encoding gzip", "POST", $"/v1/{Resource}", valid, "application/json", Keyed([("Content-Encoding", "gzip")]), 415);
        yield return new("merge patch sent as JSON", "PATCH", record, patch, "application/json", Keyed([("If-Match", "*")]), 415);
    }

    public static IEnumerable<HostileRequest> All() => BodyCases().Concat(HeaderCases());

    /// <summary>Asserts an answer as every refusal must be: a problem document with its status and title, no stack trace.</summary>
    public static void AssertAnswer(HostileRequest request, int status, string? mediaType, string body)
    {
        Assert.True(status == request.Expected, $"{request}: expected {request.Expected}, got {status}: {body}");
        if (status < 400) return;
        Assert.True(mediaType == "application/problem+json", $"{request}: {status} as {mediaType ?? "no content type"}: {body}");
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal(status, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()), $"{request}: no title");
        Assert.DoesNotContain("   at ", body);
    }
}

/// <summary>
/// The hostile catalogue through the in-memory host, on the configured provider: each case gets its own status as a
/// problem document, nothing refused is written (the change feed and the record's ETag stay as they were), and the log
/// holds no error for any of it.
/// </summary>
public sealed class HostileInputTests : WriteTest
{
    [Fact]
    public async Task EveryHostileRequestGetsItsStatusAndWritesNothing()
    {
        var record = $"/v1/{HostileRequests.Resource}/{HostileRequests.Id}";
        var failures = new List<string>();
        foreach (var hostile in HostileRequests.All())
        {
            var before = await State(record);
            using var response = await Send(hostile);
            var body = await response.Content.ReadAsStringAsync();
            try
            {
                HostileRequests.AssertAnswer(hostile, (int)response.StatusCode, response.Content.Headers.ContentType?.MediaType, body);
                if (hostile.Expected >= 400) Assert.True(before == await State(record), $"{hostile}: refused, but something was written");
                else if (hostile.Method == "POST")
                {
                    // Accepted on purpose: remove what it made, so the next case starts from the same state.
                    var id = JsonNode.Parse(body)!["id"]!.GetValue<string>();
                    (await Delete($"/v1/{HostileRequests.Resource}/{id}", "*")).Dispose();
                }
            }
            catch (Xunit.Sdk.XunitException e)
            {
                failures.Add(e.Message);
            }
        }
        Assert.True(failures.Count == 0, string.Join("\n", failures));
        Assert.True(Factory.Errors.Entries.Count == 0, string.Join("\n", Factory.Errors.Entries.Take(3)));
    }

    [Fact]
    public async Task BomBodyIsReadAsTheSameRecord()
    {
        using var response = await Client.SendAsync(Request("POST", "/v1/firms",
            [0xEF, 0xBB, 0xBF, .. Encoding.UTF8.GetBytes("""{"name":"Bom Firm","description":"Ünïcödé"}""")], "application/json", [("X-Api-Key", AdminKey)]));
        var created = await response.Expect(HttpStatusCode.Created);
        Assert.Equal("bom-firm", created["id"]!.GetValue<string>());
        Assert.Equal("Ünïcödé", created["description"]!.GetValue<string>());
    }

    [Fact]
    public async Task NulInAFilterValueIs400()
    {
        // PostgreSQL cannot compare text holding U+0000: a text filter with %00 was a 500 there.
        foreach (var url in new[] { "/v1/sources?author=a%00b", "/v1/zones?district=%00", "/v1/facilities?kind=x%00", "/v1/sources?section=a,b%00", "/v1/changes?resource=firms%00" })
            await Client.Problem(url, HttpStatusCode.BadRequest);
        // Search text is literal: U+0000 is no word, as any punctuation (QueryTests.SearchTextIsLiteralNeverAnError).
        await Client.Json("/v1/firms?q=%00");
        Assert.Empty(Factory.Errors.Entries);
    }

    private long lastSeq;

    /// <summary>The record's ETag (or its absence) and the change feed's last seq, read on from the last seq seen.</summary>
    private async Task<(string?, long)> State(string record)
    {
        using var item = await Client.GetAsync(record);
        while (true)
        {
            var items = (await Client.Json($"/v1/changes?after={lastSeq}&limit=100"))["items"]!.AsArray();
            if (items.Count == 0) break;
            lastSeq = items[^1]!["seq"]!.GetValue<long>();
        }
        return (item.StatusCode == HttpStatusCode.OK ? item.Headers.ETag!.Tag : null, lastSeq);
    }

    private Task<HttpResponseMessage> Send(HostileRequest hostile) =>
        Client.SendAsync(Request(hostile.Method, hostile.Path, hostile.Body, hostile.ContentType, hostile.Headers));

    public static HttpRequestMessage Request(string method, string path, byte[]? body, string? contentType, (string Name, string Value)[] headers)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(body);
            if (contentType is not null) request.Content.Headers.TryAddWithoutValidation("Content-Type", contentType);
        }
        foreach (var (name, value) in headers)
        {
            if (name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) request.Content!.Headers.TryAddWithoutValidation(name, value);
            else request.Headers.TryAddWithoutValidation(name, value);
        }
        return request;
    }
}
