using System.Net;
using Microsoft.AspNetCore.Http;

namespace HubApi.Tests;

/// <summary>
/// X-Forwarded-For and X-Forwarded-Proto are believed only from the proxies in ForwardedHeaders:KnownProxies or
/// ForwardedHeaders:KnownNetworks; with neither set, or from any other address, they are ignored. What the service
/// believes shows in the per-address rate limit (two clients behind one proxy have budgets of their own) and in the
/// scheme of the absolute links it writes.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string Proxy = "10.1.2.3";

    private static HubApiFactory Service(params (string Key, string Value)[] settings)
    {
        var factory = new HubApiFactory().With("RateLimiting:AnonymousPermitsPerMinute", "2");
        foreach (var (key, value) in settings) factory.With(key, value);
        return factory;
    }

    /// <summary>A GET that arrives from <paramref name="from"/>, carrying the forwarded headers given.</summary>
    private static async Task<HttpResponse> Get(HubApiFactory factory, string from, string? forwardedFor, string? forwardedProto = null, string url = "/v1/zones?limit=2")
    {
        var context = await factory.Server.SendAsync(http =>
        {
            http.Connection.RemoteIpAddress = IPAddress.Parse(from);
            http.Request.Method = "GET";
            http.Request.Scheme = "http";
            http.Request.Host = new HostString("hub.example");
            var query = url.IndexOf('?');
            http.Request.Path = query < 0 ? url : url[..query];
            http.Request.QueryString = query < 0 ? QueryString.Empty : new QueryString(url[query..]);
            if (forwardedFor is not null) http.Request.Headers["X-Forwarded-For"] = forwardedFor;
            if (forwardedProto is not null) http.Request.Headers["X-Forwarded-Proto"] = forwardedProto;
        });
        return context.Response;
    }

    /// <summary>Spends the budget of the client the service takes the first request to come from, then asks as another.</summary>
    private static async Task<int> SecondClientsStatus(HubApiFactory factory, string from)
    {
        Assert.Equal(200, (await Get(factory, from, "203.0.113.1")).StatusCode);
        Assert.Equal(200, (await Get(factory, from, "203.0.113.1")).StatusCode);
        Assert.Equal(429, (await Get(factory, from, "203.0.113.1")).StatusCode);
        return (await Get(factory, from, "203.0.113.2")).StatusCode;
    }

    [Fact]
    public async Task WithNoProxyConfiguredForwardedHeadersAreIgnored()
    {
        using var factory = Service();
        Assert.Equal(429, await SecondClientsStatus(factory, Proxy));
        using var fresh = Service();
        var link = (await Get(fresh, Proxy, "203.0.113.3", "https")).Headers.Link.ToString();
        Assert.StartsWith("<http://hub.example/v1/zones?", link);
    }

    [Fact]
    public async Task HeadersFromAnAddressThatIsNotAKnownProxyAreIgnored()
    {
        using var factory = Service(("ForwardedHeaders:KnownProxies", Proxy));
        Assert.Equal(429, await SecondClientsStatus(factory, "10.1.2.4"));
        // Loopback is not trusted either unless it is named: the middleware's own defaults are cleared.
        using var loopback = Service(("ForwardedHeaders:KnownProxies", Proxy));
        Assert.Equal(429, await SecondClientsStatus(loopback, "127.0.0.1"));
    }

    [Fact]
    public async Task HeadersFromAKnownProxyNameTheClient()
    {
        using var factory = Service(("ForwardedHeaders:KnownProxies", "10.9.9.9, " + Proxy));
        Assert.Equal(200, await SecondClientsStatus(factory, Proxy));
        var link = (await Get(factory, Proxy, "203.0.113.3", "https")).Headers.Link.ToString();
        Assert.StartsWith("<https://hub.example/v1/zones?", link);
    }

    [Fact]
    public async Task ACachedPageKeepsTheLinksOfTheSchemeItWasAskedWith()
    {
        using var factory = Service(("ForwardedHeaders:KnownProxies", Proxy));
        for (var i = 0; i < 2; i++)
        {
            Assert.StartsWith("<http://hub.example/", (await Get(factory, Proxy, "203.0.113.4", "http")).Headers.Link.ToString());
            Assert.StartsWith("<https://hub.example/", (await Get(factory, Proxy, "203.0.113.5", "https")).Headers.Link.ToString());
        }
    }

    [Fact]
    public async Task HeadersFromAKnownNetworkNameTheClient()
    {
        using var factory = Service(("ForwardedHeaders:KnownNetworks", "10.0.0.0/8"));
        Assert.Equal(200, await SecondClientsStatus(factory, Proxy));
    }

    [Fact]
    public async Task OnlyTheEntryTheProxyAppendedIsBelieved()
    {
        // nginx appends the address it saw to what the client sent: "<forged>, <client>". The forged part is not believed.
        using var factory = Service(("ForwardedHeaders:KnownProxies", Proxy));
        Assert.Equal(200, (await Get(factory, Proxy, "198.51.100.1, 203.0.113.1")).StatusCode);
        Assert.Equal(200, (await Get(factory, Proxy, "198.51.100.2, 203.0.113.1")).StatusCode);
        Assert.Equal(429, (await Get(factory, Proxy, "198.51.100.3, 203.0.113.1")).StatusCode);
    }

    [Fact]
    public async Task AMistypedProxyStopsTheStartUp()
    {
        using var factory = Service(("ForwardedHeaders:KnownProxies", "nginx.local"));
        var error = Assert.ThrowsAny<Exception>(() => factory.Server);
        Assert.Contains("ForwardedHeaders:KnownProxies", error.ToString());
    }
}
