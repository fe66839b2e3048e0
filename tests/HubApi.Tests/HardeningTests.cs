using System.Net;

namespace HubApi.Tests;

public sealed class HardeningTests : ApiTest
{
    [Fact]
    public async Task ResponsesCarrySecurityHeadersAndNoServerHeader()
    {
        using var response = await Client.GetAsync("/v1/zones");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        Assert.Equal("no-referrer", response.Headers.GetValues("Referrer-Policy").Single());
        Assert.Equal("default-src 'none'; frame-ancestors 'none'", response.Headers.GetValues("Content-Security-Policy").Single());
        Assert.False(response.Headers.Contains("Server"));
    }

    [Fact]
    public async Task SwaggerUiGetsACspThatLetsItRun()
    {
        using var response = await Client.GetAsync("/swagger/index.html");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("script-src 'self'", response.Headers.GetValues("Content-Security-Policy").Single());
    }

    [Fact]
    public async Task ErrorsToo()
    {
        using var response = await Client.GetAsync("/v1/zones/nowhere");
        Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
    }

    [Fact]
    public async Task AnonymousClientsOverTheirBudgetGet429WithRetryAfter()
    {
        using var factory = new HubApiFactory().With("RateLimiting:AnonymousPermitsPerMinute", "3");
        using var client = factory.CreateClient();
        for (var i = 0; i < 3; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/v1/zones")).StatusCode);
        using var response = await client.GetAsync("/v1/zones");
        await response.AssertProblem(HttpStatusCode.TooManyRequests);
        var retryAfter = int.Parse(response.Headers.GetValues("Retry-After").Single());
        Assert.InRange(retryAfter, 1, 60);
    }

    [Fact]
    public async Task HstsWhenConfigured()
    {
        using var factory = new HubApiFactory().With("Https:Hsts", "true");
        using var client = factory.CreateClient(new() { BaseAddress = new Uri("https://hub.example") });
        using var response = await client.GetAsync("/v1/zones");
        Assert.StartsWith("max-age=", response.Headers.GetValues("Strict-Transport-Security").Single());
    }
}
