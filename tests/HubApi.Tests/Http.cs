using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace HubApi.Tests;

public static class Http
{
    public static async Task<JsonNode> Json(this HttpClient client, string url, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await client.GetAsync(url);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"GET {url}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>Asserts an RFC 9457 problem document with the given status, and returns it.</summary>
    public static async Task<JsonObject> Problem(this HttpClient client, string url, HttpStatusCode expected, HttpMethod? method = null)
    {
        using var request = new HttpRequestMessage(method ?? HttpMethod.Get, url);
        using var response = await client.SendAsync(request);
        return await response.AssertProblem(expected);
    }

    public static async Task<JsonObject> AssertProblem(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = JsonNode.Parse(body)!.AsObject();
        Assert.Equal((int)expected, problem["status"]!.GetValue<int>());
        Assert.False(string.IsNullOrEmpty(problem["title"]?.GetValue<string>()));
        Assert.False(string.IsNullOrEmpty(problem["traceId"]?.GetValue<string>()));
        Assert.DoesNotContain("   at ", body); // no stack trace
        return problem;
    }

    /// <summary>Every item of a collection, following each page's `next` cursor to the end.</summary>
    public static async Task<List<JsonNode>> Walk(this HttpClient client, string url)
    {
        var items = new List<JsonNode>();
        var page = await client.Json(url);
        items.AddRange(page["items"]!.AsArray()!);
        while (page["next"]?.GetValue<string>() is { } next)
        {
            page = await client.Json($"{url}&cursor={Uri.EscapeDataString(next)}");
            items.AddRange(page["items"]!.AsArray()!);
        }
        return items;
    }

    public static IEnumerable<string> Ids(this JsonNode page) =>
        page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>());

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}

/// <summary>Write requests as a partner sends them: JSON bodies, an API key, If-Match and Idempotency-Key when given.</summary>
public static class Writes
{
    public const string MergePatch = "application/merge-patch+json";

    public static async Task<HttpResponseMessage> Send(this HttpClient client, HttpMethod method, string url, string? body = null,
        string? key = null, string? ifMatch = null, string contentType = "application/json", string? idempotencyKey = null)
    {
        using var request = new HttpRequestMessage(method, url);
        if (body is not null)
        {
            request.Content = new ByteArrayContent(System.Text.Encoding.UTF8.GetBytes(body));
            if (contentType.Length > 0) request.Content.Headers.ContentType = System.Net.Http.Headers.MediaTypeHeaderValue.Parse(contentType);
        }
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        if (idempotencyKey is not null) request.Headers.TryAddWithoutValidation("Idempotency-Key", idempotencyKey);
        return await client.SendAsync(request);
    }

    /// <summary>Asserts the status and returns the JSON body.</summary>
    public static async Task<JsonNode> Expect(this HttpResponseMessage response, HttpStatusCode expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri}: expected {(int)expected}, got {(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    /// <summary>The record's current ETag, as GET gives it.</summary>
    public static async Task<string> ETag(this HttpClient client, string url)
    {
        using var response = await client.GetAsync(url);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return response.Headers.ETag!.Tag;
    }
}

/// <summary>A test whose service has an admin key (scopes write and admin).</summary>
public abstract class WriteTest : ApiTest
{
    protected const string AdminKey = "test-admin-key-0123456789";

    protected WriteTest() => Factory.With("Auth:AdminKey", AdminKey);

    protected Task<HttpResponseMessage> Post(string url, string body, string? idempotencyKey = null) =>
        Client.Send(HttpMethod.Post, url, body, AdminKey, idempotencyKey: idempotencyKey);

    protected Task<HttpResponseMessage> Put(string url, string body, string? ifMatch) =>
        Client.Send(HttpMethod.Put, url, body, AdminKey, ifMatch);

    protected Task<HttpResponseMessage> Patch(string url, string body, string? ifMatch) =>
        Client.Send(HttpMethod.Patch, url, body, AdminKey, ifMatch, Writes.MergePatch);

    protected Task<HttpResponseMessage> Delete(string url, string? ifMatch) =>
        Client.Send(HttpMethod.Delete, url, null, AdminKey, ifMatch);
}
