using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using CsCheck;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>
/// Reads the served OpenAPI document and sends every operation generated valid and invalid requests. Every answer:
/// no 5xx, a status the document declares for that operation, a body valid against the declared schema.
/// HUBAPI_FUZZ_ITERATIONS raises the count for a long run.
/// </summary>
public sealed class FuzzTests : ApiTest
{
    private static readonly long Iterations = long.TryParse(Environment.GetEnvironmentVariable("HUBAPI_FUZZ_ITERATIONS"), out var n) ? n : 1500;

    private static readonly string[] Hostile =
    [
        "", " ", "%", "'", "\"", "' or '1'='1", "1; drop table firms; --", "../../etc/passwd", "<script>alert(1)</script>",
        "\u0000", "\u202e", "😀", "中文", "NaN", "-1", "0", "1e309", "99999999999999999999", "true", "null", "[]", "{}",
        "a,,b", ",", "-", "--name", "*", "NEAR(", "\"chip\"*", new string('x', 300), new string('é', 120),
    ];

    private sealed record Operation(string Method, string Path, JsonObject Spec);

    [Fact]
    public async Task EveryOperationAnswersGeneratedRequestsAsDocumented()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
        var validator = new SchemaValidator(document);
        var operations = document["paths"]!.AsObject()
            .SelectMany(p => p.Value!.AsObject().Select(m => new Operation(m.Key.ToUpperInvariant(), p.Key, m.Value!.AsObject())))
            .ToArray();
        Assert.True(operations.Length >= 30);

        var requests = Gen.OneOfConst(operations).SelectMany(op => Gen.Int[0, int.MaxValue].Select(seed => (op, seed)));
        var failures = new List<string>();
        var statuses = new Dictionary<int, int>();
        await requests.SampleAsync(async sample =>
        {
            var (op, seed) = sample;
            var random = new Random(seed);
            using var request = Build(document, op, random);
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            using var response = await Client.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var status = (int)response.StatusCode;
            lock (statuses) statuses[status] = statuses.GetValueOrDefault(status) + 1;
            // An event stream stays open for as long as the client listens: its headers are the answer.
            var body = response.Content.Headers.ContentType?.MediaType == "text/event-stream" ? "" : await response.Content.ReadAsStringAsync(timeout.Token);
            var where = $"{request.Method} {request.RequestUri} → {status}";
            if (status >= 500) { failures.Add($"{where}: {body}"); return; }
            var declared = op.Spec["responses"]!.AsObject();
            if (Resolve(document, declared[status.ToString()]) is not { } responseSpec)
            {
                failures.Add($"{where}: status not declared for {op.Method} {op.Path}");
                return;
            }
            var mediaType = response.Content.Headers.ContentType?.MediaType;
            if (body.Length == 0 || mediaType is null) return;
            if (responseSpec["content"]?[mediaType]?["schema"] is not { } schema)
            {
                failures.Add($"{where}: content type {mediaType} not declared");
                return;
            }
            if (mediaType is "application/json" or "application/problem+json")
            {
                var errors = validator.Validate(JsonNode.Parse(body), schema);
                if (errors.Count > 0) failures.Add($"{where}: {string.Join("; ", errors.Take(3))}");
            }
        }, seed: "0000FuzzHub1", iter: Iterations, threads: 1);

        Assert.True(failures.Count == 0, string.Join("\n", failures.Distinct().Take(20)));
        Assert.True(statuses.Keys.Count(s => s < 300) > 0 && statuses.Keys.Count(s => s is >= 400 and < 500) > 0,
            "the generator should produce both accepted and refused requests: " + string.Join(", ", statuses));
    }

    /// <summary>A parameter or response as declared, or the shared one under components that it refers to.</summary>
    internal static JsonNode? Resolve(JsonObject document, JsonNode? node) =>
        node?["$ref"]?.GetValue<string>() is { } reference
            ? reference.TrimStart('#', '/').Split('/').Aggregate((JsonNode?)document, (n, part) => n?[part])
            : node;

    private static HttpRequestMessage Build(JsonObject document, Operation op, Random random)
    {
        var query = new List<string>();
        var path = op.Path;
        foreach (var declared in op.Spec["parameters"]?.AsArray() ?? [])
        {
            var parameter = Resolve(document, declared);
            var name = parameter!["name"]!.GetValue<string>();
            var location = parameter["in"]!.GetValue<string>();
            if (location == "path")
            {
                var value = random.Next(4) switch
                {
                    0 => parameter["example"]?.GetValue<string>() ?? "x",
                    1 => Pick(random, Hostile),
                    _ => parameter["example"]?.GetValue<string>() ?? "nope",
                };
                // The in-memory test host itself refuses NUL in paths (Kestrel answers it 400); queries still carry it.
                value = value.Replace("\u0000", "");
                path = path.Replace("{" + name + "}", Uri.EscapeDataString(value.Length == 0 ? "-" : value));
            }
            else if (location == "query" && random.Next(3) == 0)
            {
                var value = random.Next(3) == 0 ? Pick(random, Hostile) : Valid(parameter["schema"]!, parameter["example"], random);
                query.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}");
                if (random.Next(20) == 0) query.Add($"{Uri.EscapeDataString(name)}={Uri.EscapeDataString(value)}"); // repeated
            }
        }
        if (random.Next(10) == 0) query.Add($"{Pick(random, ["unknown", "Limit", "LIMIT", "x"])}=1");
        var url = path + (query.Count > 0 ? "?" + string.Join("&", query) : "");
        var request = new HttpRequestMessage(new HttpMethod(op.Method), url);
        if (random.Next(5) == 0) request.Headers.TryAddWithoutValidation("Accept", Pick(random, ["text/html", "*/*", "application/xml", "application/json"]));
        if (random.Next(8) == 0) request.Headers.TryAddWithoutValidation("If-None-Match", Pick(random, ["*", "\"abc\"", "W/\"abc\"", "garbage"]));
        if (op.Spec["requestBody"] is not null)
        {
            var contentType = Pick(random, ["application/json", "application/merge-patch+json", "text/plain", "application/xml"]);
            var body = random.Next(4) switch
            {
                0 => "{\"name\":" + new string('[', 2000) + new string(']', 2000) + "}",
                1 => Pick(random, Hostile),
                2 => "{\"name\":\"" + Pick(random, Hostile).Replace("\"", "") + "\",\"id\":\"" + Pick(random, Hostile).Replace("\"", "") + "\"}",
                _ => "{\"name\":\"Fuzzed\",\"version\":7,\"unknown\":true}",
            };
            request.Content = new StringContent(body, Encoding.UTF8);
            request.Content.Headers.ContentType = new(contentType);
        }
        return request;
    }

    private static string Valid(JsonNode schema, JsonNode? example, Random random)
    {
        if (example is not null && random.Next(2) == 0)
            return example is JsonArray array ? string.Join(",", array.Select(e => e!.GetValue<string>())) : example.ToString();
        return schema["type"]?.GetValue<string>() switch
        {
            "integer" => random.Next(-5, 120).ToString(),
            "number" => (random.NextDouble() * 1e10).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "boolean" => random.Next(2) == 0 ? "true" : "false",
            "array" when schema["items"]?["enum"] is JsonArray values =>
                string.Join(",", values.OrderBy(_ => random.Next()).Take(random.Next(1, 3)).Select(v => v!.GetValue<string>())),
            "array" => Pick(random, ["lingang", "zhangjiang,west-bund", "integrated-circuits", "Pudong New Area", "economy"]),
            _ => Pick(random, ["chip", "lab", "wafer plant", "zone", "x"]),
        };
    }

    private static string Pick(Random random, string[] values) => values[random.Next(values.Length)];
}

/// <summary>
/// Byte-level fuzzing of every write operation the served document lists. Each case starts from a request the service
/// accepts (a record's own body, its current ETag, the admin key) and mutates its bytes: bits flipped, bytes replaced,
/// invalid UTF-8, escaped surrogates and NULs spliced in, numbers beyond a double, deep nesting, duplicate members,
/// byte-order marks, other encodings, cuts and garbage; and its headers: X-Api-Key, If-Match, Idempotency-Key,
/// Content-Type and Content-Encoding with bytes beyond ASCII, controls and the wrong shape. Every answer: no 5xx; every
/// 4xx a problem document; a refused request writes nothing (the change feed has no new row, the record keeps its ETag);
/// nothing is logged at Error. Seeded: HUBAPI_FUZZ_SEED replays a run, HUBAPI_FUZZ_BYTE_CASES sets its length.
/// </summary>
public sealed class ByteFuzzTests(ITestOutputHelper output) : WriteTest
{
    private static readonly int Cases = int.TryParse(Environment.GetEnvironmentVariable("HUBAPI_FUZZ_BYTE_CASES"), out var n) ? n : 2000;
    private static readonly int Seed = int.TryParse(Environment.GetEnvironmentVariable("HUBAPI_FUZZ_SEED"), out var s) ? s : 20261201;

    private static readonly byte[] HostileBytes = [0x00, 0x01, 0x1F, 0x7F, 0x80, 0xBF, 0xC0, 0xC1, 0xED, 0xF4, 0xF5, 0xF8, 0xFE, 0xFF, (byte)'"', (byte)'\\', (byte)'{', (byte)'[', (byte)']', (byte)','];

    private static readonly byte[][] HostileSequences =
    [
        [0xFF, 0xFE], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xE4, 0xB8], [0xF0, 0x9F], [0xF4, 0x90, 0x80, 0x80], [0xEF, 0xBB, 0xBF],
        [0x00], .. new[]
        {
            "\\u0000", "\\ud800", "\\udc00\\ud800", "\\uD83D", "\\uDE00x", "\\u", "\\x41", "\\", "\"", "1e400", "-1e400", "1e-400", "0.0e-999",
            new string('9', 400), "NaN", "Infinity", "\"name\":\"dup\",", new string('[', 10_000), "}", "]", "null", "\u202e", "😀",
        }.Select(Encoding.UTF8.GetBytes),
    ];

    /// <summary>Header values a client cannot mean, as the service reads them (Latin-1: one character per byte).</summary>
    private static readonly string[] HostileHeaderParts = ["\u00ff", "\u00c3\u00a9", "\u00c0\u00af", "\u00ed\u00a0\u0080", "\u0080", "\u0001", "\u007f", "\t", " ", "\"", ",", "*", "W/"];

    private sealed record Write(string Method, string Path, string Resource, string Id);

    private sealed record Case(int Index, string Method, string Path, byte[]? Body, List<(string Name, string Value)> Headers)
    {
        public override string ToString() =>
            $"#{Index} {Method} {Path} [{string.Join("; ", Headers.Select(h => $"{h.Name}: {Escape(h.Value)}"))}] " +
            (Body is null ? "no body" : Body.Length > 300 ? $"{Body.Length} bytes: {Escape(Encoding.Latin1.GetString(Body, 0, 300))}…" : Escape(Encoding.Latin1.GetString(Body)));

        private static string Escape(string text) => string.Concat(text.Select(c => c is >= ' ' and <= '~' ? c.ToString() : $"\\x{(int)c:X2}"));
    }

    [Fact]
    public async Task ByteMutatedWritesAreNeverA5xxAndRefusedOnesWriteNothing()
    {
        var document = JsonNode.Parse(await Client.GetStringAsync("/swagger/v1/swagger.json"))!.AsObject();
        var writes = (from path in document["paths"]!.AsObject()
                      from method in path.Value!.AsObject()
                      where method.Key is "post" or "put" or "patch" or "delete"
                      let resource = path.Key.Split('/')[2]
                      select new Write(method.Key.ToUpperInvariant(), path.Key, resource, Example(document, resource))).ToArray();
        Assert.True(writes.Length >= 36, $"{writes.Length} write operations");

        var random = new Random(Seed);
        var failures = new List<string>();
        var statuses = new SortedDictionary<int, int>();
        var lastSeq = await LastSeq(0);
        var disposable = new Dictionary<string, string>(); // resource → a record of its own this run may delete
        for (var index = 0; index < Cases && failures.Count < 10; index++)
        {
            var write = writes[random.Next(writes.Length)];
            var id = write.Method == "DELETE" ? disposable.GetValueOrDefault(write.Resource) ?? await Disposable(write, index) : write.Id;
            if (write.Method == "DELETE") disposable[write.Resource] = id;
            lastSeq = await LastSeq(lastSeq);
            var item = $"/v1/{write.Resource}/{id}";
            var etag = await CurrentETag(item);
            var request = await Mutated(index, random, write, item, etag);

            using var response = await Client.SendAsync(Message(request));
            var status = (int)response.StatusCode;
            statuses[status] = statuses.GetValueOrDefault(status) + 1;
            var body = await response.Content.ReadAsStringAsync();
            string? failure = null;
            if (status >= 500) failure = $"{status}: {body}";
            else if (status >= 400 && Problem(status, response.Content.Headers.ContentType?.MediaType, body) is { } notAProblem) failure = notAProblem;
            else if (status >= 400 && await LastSeq(lastSeq) != lastSeq) failure = $"refused with {status}, but the change feed moved";
            else if (status >= 400 && await CurrentETag(item) != etag) failure = $"refused with {status}, but {item} changed";
            else if (status is 200 or 201 && response.Headers.ETag?.Tag is { } written)
            {
                // Taken: what was stored reads back as it was answered.
                var location = response.Headers.Location?.ToString() ?? item;
                if (await CurrentETag(location) != written) failure = $"accepted with {status}, but {location} does not read back with ETag {written}";
            }
            else if (status == 204 && write.Method == "DELETE") disposable.Remove(write.Resource);
            if (failure is not null) failures.Add($"{request}\n  → {failure}");
        }

        var summary = $"seed {Seed} (replay with HUBAPI_FUZZ_SEED={Seed}); statuses: {string.Join(", ", statuses.Select(p => $"{p.Key}×{p.Value}"))}";
        output.WriteLine(summary);
        Assert.True(failures.Count == 0, summary + "\n" + string.Join("\n", failures));
        Assert.True(Factory.Errors.Entries.Count == 0, summary + "\n" + string.Join("\n", Factory.Errors.Entries.Take(3)));
        Assert.True(statuses.Keys.Any(k => k < 300) && statuses.Where(p => p.Key is >= 400 and < 500).Sum(p => p.Value) > Cases / 2,
            "the mutations should be mostly refused, and some taken: " + summary);
    }

    private static string? Problem(int status, string? mediaType, string body)
    {
        if (mediaType != "application/problem+json") return $"{status} as {mediaType ?? "no content type"}: {body}";
        var problem = JsonNode.Parse(body)!.AsObject();
        if (problem["status"]?.GetValue<int>() != status || string.IsNullOrEmpty(problem["title"]?.GetValue<string>())) return $"{status}: not a problem: {body}";
        return body.Contains("   at ") ? $"{status}: a stack trace: {body}" : null;
    }

    private static string Example(JsonObject document, string resource) =>
        document["paths"]![$"/v1/{resource}/{{id}}"]!["get"]!["parameters"]!.AsArray().Select(p => FuzzTests.Resolve(document, p))
            .Single(p => p!["name"]!.GetValue<string>() == "id")!["example"]!.GetValue<string>();

    /// <summary>A request the service takes for this write, then mutated: its body, its headers, or both.</summary>
    private async Task<Case> Mutated(int index, Random random, Write write, string item, string? etag)
    {
        var headers = new List<(string Name, string Value)> { ("X-Api-Key", AdminKey) };
        byte[]? body = null;
        var path = write.Method == "POST" ? write.Path : item;
        if (write.Method != "POST") headers.Add(("If-Match", etag ?? "*"));
        if (write.Method is "POST" or "PUT")
        {
            var record = await Body(item);
            if (write.Method == "POST")
            {
                record.Remove("id");
                record["name"] = $"Fuzzed {Seed} {index}";
                if (random.Next(4) == 0) headers.Add(("Idempotency-Key", $"fuzz-{Seed}-{index}"));
            }
            body = Encoding.UTF8.GetBytes(record.ToJsonString());
            headers.Add(("Content-Type", "application/json"));
        }
        else if (write.Method == "PATCH")
        {
            var record = await Body(item);
            var names = record.Select(p => p.Key).Where(k => k != "id").OrderBy(_ => random.Next()).Take(random.Next(1, 3)).ToList();
            body = Encoding.UTF8.GetBytes(new JsonObject(names.Select(k => KeyValuePair.Create(k, record[k]?.DeepClone()))).ToJsonString());
            headers.Add(("Content-Type", Writes.MergePatch));
        }

        // Most cases mutate the body; a third mutate a header (as well, or instead when there is no body).
        var mutateHeaders = body is null || random.Next(3) == 0;
        if (body is not null && (!mutateHeaders || random.Next(2) == 0))
        {
            for (var times = random.Next(1, 4); times > 0; times--) body = MutateBody(random, body);
        }
        if (mutateHeaders) MutateHeader(random, headers, write.Method);
        return new Case(index, write.Method, path, body, headers);
    }

    private static byte[] MutateBody(Random random, byte[] body)
    {
        var at = body.Length == 0 ? 0 : random.Next(body.Length + 1);
        byte[] Splice(int from, int cut, ReadOnlySpan<byte> insert) => [.. body.AsSpan(0, from), .. insert, .. body.AsSpan(Math.Min(body.Length, from + cut))];
        switch (random.Next(12))
        {
            case 0 when body.Length > 0:
                var flipped = body.ToArray();
                flipped[random.Next(flipped.Length)] ^= (byte)(1 << random.Next(8));
                return flipped;
            case 1 when body.Length > 0:
                return Splice(Math.Min(at, body.Length - 1), 1, [HostileBytes[random.Next(HostileBytes.Length)]]);
            case 2:
                return Splice(at, 0, HostileSequences[random.Next(HostileSequences.Length)]);
            case 3:
                // Inside a string or a member name: just after one of its quotes.
                var quotes = body.Select((b, i) => (b, i)).Where(p => p.b == '"').Select(p => p.i + 1).ToArray();
                return quotes.Length == 0 ? body : Splice(quotes[random.Next(quotes.Length)], 0, HostileSequences[random.Next(HostileSequences.Length)]);
            case 4:
                // A number beyond a double where a number was.
                var digits = body.Select((b, i) => (b, i)).Where(p => p.b is >= (byte)'0' and <= (byte)'9' && p.i > 0 && body[p.i - 1] == ':').Select(p => p.i).ToArray();
                if (digits.Length == 0) return body;
                var start = digits[random.Next(digits.Length)];
                var end = start;
                while (end < body.Length && body[end] is >= (byte)'0' and <= (byte)'9' or (byte)'.' or (byte)'e' or (byte)'E' or (byte)'-' or (byte)'+') end++;
                return Splice(start, end - start, Encoding.UTF8.GetBytes(random.Next(3) switch { 0 => "1e400", 1 => "-1e-400", _ => new string('7', 400) }));
            case 5:
                return body.AsSpan(0, at).ToArray();
            case 6 when body.Length > 1:
                var from = random.Next(body.Length - 1);
                return Splice(at, 0, body.AsSpan(from, random.Next(1, body.Length - from)));
            case 7:
                return random.Next(3) switch
                {
                    0 => [0xEF, 0xBB, 0xBF, .. body],
                    1 => [0xFF, 0xFE, .. Encoding.Unicode.GetBytes(Encoding.UTF8.GetString(body))],
                    _ => Encoding.BigEndianUnicode.GetBytes(Encoding.UTF8.GetString(body)),
                };
            case 8:
                return [.. body, .. Encoding.UTF8.GetBytes(random.Next(2) == 0 ? " x" : "{}"), .. random.Next(2) == 0 ? new byte[] { 0 } : []];
            case 9:
                // A member given twice, first or last.
                var first = Array.IndexOf(body, (byte)'{');
                return first < 0 ? body : Splice(first + 1, 0, "\"name\":\"Twice\","u8);
            case 10:
                var depth = random.Next(2) == 0 ? 17 : 10_000;
                return Encoding.UTF8.GetBytes("{\"name\":" + new string('[', depth) + new string(']', depth) + "}");
            default:
                return Splice(at, random.Next(0, 4), [(byte)random.Next(256)]);
        }
    }

    private static void MutateHeader(Random random, List<(string Name, string Value)> headers, string method)
    {
        string[] names = method switch
        {
            "POST" => ["X-Api-Key", "Idempotency-Key", "Content-Type", "Content-Encoding"],
            "DELETE" => ["X-Api-Key", "If-Match"],
            _ => ["X-Api-Key", "If-Match", "Content-Type", "Content-Encoding"],
        };
        var name = names[random.Next(names.Length)];
        var index = headers.FindIndex(h => h.Name == name);
        var value = index >= 0 ? headers[index].Value : "fuzz-key";
        var part = HostileHeaderParts[random.Next(HostileHeaderParts.Length)];
        var mutated = random.Next(7) switch
        {
            0 => value.Insert(random.Next(value.Length + 1), part),
            1 => part,
            2 => value.Trim('"'),
            3 => new string('k', 300),
            4 => name == "Content-Type" ? value + "; charset=" + new[] { "latin1", "utf-16", "UTF-8", "\"utf-8\"", "\u00ff" }[random.Next(5)] : value + part,
            5 => name == "Content-Encoding" ? new[] { "gzip", "br", "identity", "\u00ff" }[random.Next(4)] : "",
            _ => value,
        };
        if (index >= 0) headers.RemoveAt(index);
        // Sometimes left out, sometimes sent twice.
        if (random.Next(10) > 0) headers.Add((name, mutated));
        if (random.Next(10) == 0) headers.Add((name, value));
    }

    private static HttpRequestMessage Message(Case request)
    {
        var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path);
        if (request.Body is not null) message.Content = new ByteArrayContent(request.Body);
        foreach (var (name, value) in request.Headers)
        {
            if (name.StartsWith("Content-", StringComparison.Ordinal)) message.Content?.Headers.TryAddWithoutValidation(name, value);
            else message.Headers.TryAddWithoutValidation(name, value);
        }
        return message;
    }

    /// <summary>A record as a write body: as GET renders it, less what the server owns.</summary>
    private async Task<JsonObject> Body(string item)
    {
        using var response = await Client.GetAsync(item);
        if (response.StatusCode != HttpStatusCode.OK) return new JsonObject { ["name"] = "Fuzzed" };
        var record = JsonNode.Parse(await response.Content.ReadAsStringAsync())!.AsObject();
        foreach (var name in new[] { "version", "createdAt", "updatedAt" }) record.Remove(name);
        return record;
    }

    /// <summary>A record this run made, for deletes to aim at without removing what the other writes change.</summary>
    private async Task<string> Disposable(Write write, int index)
    {
        var id = $"fuzz-delete-{index}";
        var record = await Body($"/v1/{write.Resource}/{write.Id}");
        record["id"] = id;
        record["name"] = $"Fuzz delete {index}";
        using var response = await Client.Send(HttpMethod.Post, $"/v1/{write.Resource}", record.ToJsonString(), AdminKey);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"POST /v1/{write.Resource}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        return id;
    }

    private async Task<string?> CurrentETag(string url)
    {
        using var response = await Client.GetAsync(url);
        return response.StatusCode == HttpStatusCode.OK ? response.Headers.ETag?.Tag : null;
    }

    /// <summary>The change feed's last seq, read on from <paramref name="after"/>.</summary>
    private async Task<long> LastSeq(long after)
    {
        while (true)
        {
            var items = (await Client.Json($"/v1/changes?after={after}&limit=100"))["items"]!.AsArray();
            if (items.Count == 0) return after;
            after = items[^1]!["seq"]!.GetValue<long>();
        }
    }
}
