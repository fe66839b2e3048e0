using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace HubApi.ClusterTests;

/// <summary>Requests as a partner sends them, and what the tests read back.</summary>
public static class Http
{
    public const string MergePatch = "application/merge-patch+json";

    public static async Task<HttpResponseMessage> Send(this HttpClient client, HttpMethod method, string url, string? body = null,
        string? ifMatch = null, string? idempotencyKey = null, string contentType = "application/json", string? ifNoneMatch = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, contentType);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (ifNoneMatch is not null) request.Headers.TryAddWithoutValidation("If-None-Match", ifNoneMatch);
        if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    public static Task<HttpResponseMessage> Post(this HttpClient client, string url, string body, string? idempotencyKey = null) =>
        client.Send(HttpMethod.Post, url, body, idempotencyKey: idempotencyKey);

    public static Task<HttpResponseMessage> Patch(this HttpClient client, string url, string body, string ifMatch) =>
        client.Send(HttpMethod.Patch, url, body, ifMatch, contentType: MergePatch);

    public static async Task<JsonNode> Json(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {client.BaseAddress}{url.TrimStart('/')}: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Asserts the status, and returns the body as JSON (null when empty).</summary>
    public static async Task<JsonNode?> Expect(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected,
            $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return body.Length == 0 ? null : JsonNode.Parse(body);
    }

    public static async Task<string> ETag(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.ETag!.Tag;
    }

    /// <summary>Every change after <paramref name="after"/>, following `next` to the end of the feed.</summary>
    public static async Task<List<Change>> Changes(this HttpClient client, long after)
    {
        var changes = new List<Change>();
        while (true)
        {
            var page = await client.Json($"/v1/changes?after={after}&limit=1000");
            changes.AddRange(page["items"]!.AsArray().Select(i => new Change(
                i!["seq"]!.GetValue<long>(), i["resource"]!.GetValue<string>(), i["id"]!.GetValue<string>(),
                i["op"]!.GetValue<string>(), i["version"]!.GetValue<long>())));
            if (page["next"]?.GetValue<long>() is not { } next) return changes;
            after = next;
        }
    }

    public static async Task<long> LastSeq(this HttpClient client) => (await client.Changes(0)).LastOrDefault()?.Seq ?? 0;

    /// <summary>
    /// Polls until the condition holds, for at most <paramref name="within"/>; returns how long it took. The clock
    /// starts when called, so call it right after the write being waited for was acknowledged.
    /// </summary>
    public static async Task<TimeSpan> Eventually(Func<Task<bool>> condition, TimeSpan within, string what)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await condition()) return clock.Elapsed;
            Assert.True(clock.Elapsed < within, $"{what}: not within {within.TotalMilliseconds} ms");
            await Task.Delay(5);
        }
    }
}

public sealed record Change(long Seq, string Resource, string Id, string Op, long Version);
