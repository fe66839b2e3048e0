using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

/// <summary>
/// The hostile catalogue against the real process, byte for byte over a socket: header bytes beyond ASCII as they are
/// sent (not as HttpClient would encode them), and the framing HttpClient cannot send at all: a Content-Length shorter
/// or longer than the body, a malformed chunk. Nothing refused is written, and the log has no error and no stack trace.
/// </summary>
public sealed class RawSocketTests
{
    [Fact]
    public async Task HostileBytesOnTheWireAreRefusedAsProblemsAndWriteNothing()
    {
        var database = TestDatabase.NewName();
        using var server = await ServerProcess.StartAsync(database, new Dictionary<string, string> { ["Auth__AdminKey"] = HostileRequests.Key });
        try
        {
            var record = $"/v1/{HostileRequests.Resource}/{HostileRequests.Id}";
            var failures = new List<string>();
            // A body announced longer than sent, and never finished: Kestrel gives up after its minimum data rate's grace
            // (5 s) and the write answers 408. Waited for beside the rest.
            var stalled = Task.Run(() => Exchange(server.Port, Head("POST", $"/v1/{HostileRequests.Resource}", "application/json", 200) + """{"name":"Stalled"}""", TimeSpan.FromSeconds(30)));

            foreach (var hostile in HostileRequests.All())
            {
                var before = await State(server.Client, record);
                var answer = await Exchange(server.Port, Wire(hostile), TimeSpan.FromSeconds(30));
                try
                {
                    HostileRequests.AssertAnswer(hostile, answer.Status, answer.MediaType, answer.Body);
                    if (hostile.Expected >= 400) Assert.True(before == await State(server.Client, record), $"{hostile}: refused, but something was written");
                }
                catch (Xunit.Sdk.XunitException e)
                {
                    failures.Add(e.Message);
                }
            }

            var state = await State(server.Client, record);
            // Content-Length shorter than the body: the body is what it announced (cut mid-string here, so 400), and the
            // rest is read as the next request, which Kestrel refuses (400 without a body) before closing the connection.
            var shortBody = """{"name":"Short Project"}""";
            var cut = await ExchangeAll(server.Port, Head("POST", $"/v1/{HostileRequests.Resource}", "application/json", 12) + shortBody);
            Expect(failures, "Content-Length shorter than the body", cut.Count >= 1 && cut[0].Status == 400 && cut[0].MediaType == "application/problem+json"
                && cut.Skip(1).All(a => a.Status == 400), cut);
            // Content-Length longer than the body, and the client closes its side: there is no one left to answer.
            var halfClosed = await Exchange(server.Port, Head("PATCH", record, Writes.MergePatch, 100, "If-Match: *") + """{"description":"x"}""",
                TimeSpan.FromSeconds(30), closeAfterSending: true);
            Expect(failures, "Content-Length longer than the body, then closed", halfClosed.Status is 0 or 400, [halfClosed]);
            // A malformed chunk.
            var chunk = await Exchange(server.Port, Head("POST", $"/v1/{HostileRequests.Resource}", "application/json", null, "Transfer-Encoding: chunked")
                + "zz\r\n{\"name\":\"Chunk\"}\r\n0\r\n\r\n", TimeSpan.FromSeconds(30));
            Expect(failures, "a malformed chunk", chunk.Status == 400 && chunk.MediaType == "application/problem+json", [chunk]);
            // Framing Kestrel refuses before any application code runs: 400 without a body, connection closed.
            foreach (var (name, raw) in new[]
            {
                ("NUL in a header value", Head("POST", $"/v1/{HostileRequests.Resource}", "application/json", 2, "Idempotency-Key: a\0b") + "{}"),
                ("a raw byte beyond ASCII in the path", "GET /v1/projects/\u00ff HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                ("%00 in the path", "GET /v1/projects/a%00 HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"),
                ("a space before a header's colon", $"POST /v1/projects HTTP/1.1\r\nHost: localhost\r\nX-Api-Key : {HostileRequests.Key}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{{}}"),
                ("a folded header line", Head("POST", $"/v1/{HostileRequests.Resource}", "application/json", 2, "If-Match: \"a\"\r\n \"b\"") + "{}"),
            })
            {
                var refused = await Exchange(server.Port, raw, TimeSpan.FromSeconds(30));
                Expect(failures, name, refused.Status == 400, [refused]);
            }
            var timedOut = await stalled;
            Expect(failures, "Content-Length longer than the body, never finished", timedOut.Status == 408 && timedOut.MediaType == "application/problem+json", [timedOut]);
            Expect(failures, "nothing written by the framing cases", state == await State(server.Client, record), []);

            Assert.True(failures.Count == 0, string.Join("\n", failures));
            Assert.True(server.Errors.Length == 0, server.Errors);
            Assert.DoesNotContain("   at ", server.Output);
        }
        finally
        {
            TestDatabase.Drop(database);
            foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(database + suffix);
        }
    }

    private static void Expect(List<string> failures, string name, bool ok, IEnumerable<Answer> answers)
    {
        if (!ok) failures.Add($"{name}: {string.Join(" | ", answers.Select(a => $"{a.Status} {a.MediaType} {a.Body}"))}");
    }

    private static async Task<(string?, long)> State(HttpClient client, string record)
    {
        using var item = await client.GetAsync(record);
        var last = 0L;
        var page = await client.Json("/v1/changes?after=0&limit=100");
        while (true)
        {
            var items = page["items"]!.AsArray();
            if (items.Count > 0) last = items[^1]!["seq"]!.GetValue<long>();
            if (page["next"] is not JsonValue next) break;
            page = await client.Json($"/v1/changes?after={next.GetValue<long>()}&limit=100");
        }
        return (item.StatusCode == HttpStatusCode.OK ? item.Headers.ETag!.Tag : null, last);
    }

    /// <summary>A request's head, with the admin key unless one is given.</summary>
    private static string Head(string method, string path, string? contentType, int? contentLength, params string[] headers)
    {
        var head = new StringBuilder($"{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
        if (!headers.Any(h => h.StartsWith("X-Api-Key:", StringComparison.OrdinalIgnoreCase))) head.Append($"X-Api-Key: {HostileRequests.Key}\r\n");
        foreach (var header in headers) head.Append(header).Append("\r\n");
        if (contentType is not null) head.Append($"Content-Type: {contentType}\r\n");
        if (contentLength is { } length) head.Append($"Content-Length: {length}\r\n");
        return head.Append("\r\n").ToString();
    }

    /// <summary>A catalogue request as bytes: its headers' characters are the bytes sent (Latin-1), its body as it is.</summary>
    private static byte[] Wire(HostileRequest hostile)
    {
        var head = new StringBuilder($"{hostile.Method} {hostile.Path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n");
        foreach (var (name, value) in hostile.Headers) head.Append($"{name}: {value}\r\n");
        if (hostile.ContentType is not null) head.Append($"Content-Type: {hostile.ContentType}\r\n");
        head.Append($"Content-Length: {hostile.Body?.Length ?? 0}\r\n\r\n");
        return [.. Encoding.Latin1.GetBytes(head.ToString()), .. hostile.Body ?? []];
    }

    public sealed record Answer(int Status, string? MediaType, string Body);

    private static Task<Answer> Exchange(int port, string request, TimeSpan timeout, bool closeAfterSending = false) =>
        Exchange(port, Encoding.Latin1.GetBytes(request), timeout, closeAfterSending);

    /// <summary>Sends the bytes on a new connection and reads until the server closes it; the first response (status 0: none).</summary>
    private static async Task<Answer> Exchange(int port, byte[] request, TimeSpan timeout, bool closeAfterSending = false) =>
        (await ExchangeAll(port, request, timeout, closeAfterSending)).FirstOrDefault() ?? new Answer(0, null, "");

    /// <summary>Every response the server sends on one connection until it closes it (or goes quiet for a second).</summary>
    private static async Task<List<Answer>> ExchangeAll(int port, string request) =>
        await ExchangeAll(port, Encoding.Latin1.GetBytes(request), TimeSpan.FromSeconds(30), false);

    private static async Task<List<Answer>> ExchangeAll(int port, byte[] request, TimeSpan timeout, bool closeAfterSending)
    {
        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(IPAddress.Loopback, port);
        await socket.SendAsync(request);
        if (closeAfterSending) socket.Shutdown(SocketShutdown.Send);
        var received = new MemoryStream();
        var buffer = new byte[16 * 1024];
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                // A keep-alive connection stays open after its answers: a quiet second ends the read once something came.
                using var quiet = CancellationTokenSource.CreateLinkedTokenSource(deadline.Token);
                if (received.Length > 0) quiet.CancelAfter(TimeSpan.FromSeconds(1));
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, quiet.Token);
                if (read == 0) break;
                received.Write(buffer, 0, read);
            }
        }
        catch (OperationCanceledException) { }
        catch (SocketException) { } // reset by the server after its answer
        return Parse(received.ToArray());
    }

    /// <summary>The HTTP/1.1 responses in a byte stream (Content-Length or chunked bodies).</summary>
    private static List<Answer> Parse(byte[] bytes)
    {
        var answers = new List<Answer>();
        var at = 0;
        while (at < bytes.Length)
        {
            var end = bytes.AsSpan(at).IndexOf("\r\n\r\n"u8);
            if (end < 0) break;
            var head = Encoding.Latin1.GetString(bytes, at, end).Split("\r\n");
            at += end + 4;
            var status = int.Parse(head[0].Split(' ')[1]);
            string? Header(string name) => head.Skip(1).Select(h => h.Split(':', 2)).Where(h => h[0].Equals(name, StringComparison.OrdinalIgnoreCase))
                .Select(h => h[1].Trim()).FirstOrDefault();
            var body = new MemoryStream();
            if (Header("Transfer-Encoding") == "chunked")
            {
                while (true)
                {
                    var line = bytes.AsSpan(at).IndexOf("\r\n"u8);
                    var size = Convert.ToInt32(Encoding.ASCII.GetString(bytes, at, line), 16);
                    at += line + 2;
                    if (size == 0) { at += 2; break; }
                    body.Write(bytes, at, size);
                    at += size + 2;
                }
            }
            else if (Header("Content-Length") is { } length)
            {
                body.Write(bytes, at, int.Parse(length));
                at += int.Parse(length);
            }
            answers.Add(new Answer(status, Header("Content-Type")?.Split(';')[0].Trim(), Encoding.UTF8.GetString(body.ToArray())));
        }
        return answers;
    }
}
