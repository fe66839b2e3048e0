// The limit of the benchmark: bare Kestrel, no middleware, answering each captured request with the very
// status, headers and body HubApi sent for it, from memory.
//   Limit --captures <folder> --urls http://127.0.0.1:PORT
// <folder>/index.tsv holds one line per capture: METHOD <tab> request target <tab> name, where name.headers is
// the response head as curl -D wrote it and name.body its body. A GET whose If-None-Match carries the captured
// ETag is answered 304, as HubApi does.
using System.Text;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

var builder = WebApplication.CreateSlimBuilder(args);
builder.Logging.ClearProviders();
var app = builder.Build();

var folder = app.Configuration["captures"] ?? throw new InvalidOperationException("--captures <folder> is required.");
var captures = new Dictionary<string, Capture>(StringComparer.Ordinal);
foreach (var line in File.ReadAllLines(Path.Combine(folder, "index.tsv")))
{
    if (line.Length == 0) continue;
    var parts = line.Split('\t');
    captures[parts[0] + " " + parts[1]] = Capture.Load(Path.Combine(folder, parts[2]));
}

app.Run(http =>
{
    var request = http.Request;
    var target = http.Features.GetRequiredFeature<IHttpRequestFeature>().RawTarget;
    var response = http.Response;
    if (!captures.TryGetValue(request.Method + " " + target, out var capture))
    {
        response.StatusCode = StatusCodes.Status404NotFound;
        return Task.CompletedTask;
    }
    var headers = response.Headers;
    if (capture.ETag is { } etag && request.Headers.IfNoneMatch.ToString().Contains(etag, StringComparison.Ordinal))
    {
        response.StatusCode = StatusCodes.Status304NotModified;
        foreach (var (name, value) in capture.Headers)
        {
            if (!name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase)) headers[name] = value;
        }
        return Task.CompletedTask;
    }
    response.StatusCode = capture.Status;
    foreach (var (name, value) in capture.Headers) headers[name] = value;
    response.ContentLength = capture.Body.Length;
    return response.Body.WriteAsync(capture.Body).AsTask();
});

app.Run();

sealed record Capture(int Status, KeyValuePair<string, StringValues>[] Headers, string? ETag, byte[] Body)
{
    // Kestrel writes these itself, as it does for HubApi.
    private static readonly string[] Framing = ["Date", "Server", "Content-Length", "Transfer-Encoding", "Connection", "Keep-Alive"];

    public static Capture Load(string path)
    {
        // curl -D writes one head per response; the last one is the final response.
        var heads = File.ReadAllText(path + ".headers", Encoding.Latin1).Split("\r\n\r\n", StringSplitOptions.RemoveEmptyEntries);
        var lines = heads[^1].Split("\r\n");
        var status = int.Parse(lines[0].Split(' ')[1]);
        var headers = lines.Skip(1)
            .Select(l => (Name: l[..l.IndexOf(':')], Value: l[(l.IndexOf(':') + 1)..].Trim()))
            .Where(h => !Framing.Contains(h.Name, StringComparer.OrdinalIgnoreCase))
            .GroupBy(h => h.Name, StringComparer.OrdinalIgnoreCase)
            .Select(g => new KeyValuePair<string, StringValues>(g.Key, new StringValues([.. g.Select(h => h.Value)])))
            .ToArray();
        var etag = headers.FirstOrDefault(h => h.Key.Equals("ETag", StringComparison.OrdinalIgnoreCase)).Value.ToString();
        return new Capture(status, headers, etag.Length == 0 ? null : etag, File.ReadAllBytes(path + ".body"));
    }
}
