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

    public static IEnumerable<string> Ids(this JsonNode page) =>
        page["items"]!.AsArray().Select(i => i!["id"]!.GetValue<string>());

    public static readonly JsonSerializerOptions Web = new(JsonSerializerDefaults.Web);
}
