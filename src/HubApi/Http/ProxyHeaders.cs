using System.Net;
using Microsoft.AspNetCore.HttpOverrides;
using IPNetwork = System.Net.IPNetwork;

namespace HubApi.Http;

/// <summary>
/// Behind a reverse proxy (nginx) every client arrives from the proxy's address. With ForwardedHeaders:KnownProxies
/// (addresses) or ForwardedHeaders:KnownNetworks (CIDR ranges) set, a request from one of them is taken to come from
/// the address and scheme the proxy put last in X-Forwarded-For and X-Forwarded-Proto, so per-address rate limits,
/// logs and absolute links see the real client. Unset (the default), the headers are ignored: a service exposed
/// directly cannot be told by its clients who they are.
/// </summary>
public static class ProxyHeaders
{
    public static void AddHubProxyHeaders(this IServiceCollection services, IConfiguration configuration)
    {
        var settings = configuration.GetSection("ForwardedHeaders");
        // Parsed now, so a mistyped address stops the start-up with a clear message rather than the first request.
        IPAddress[] proxies = [.. List(settings.GetSection("KnownProxies")).Select(value => IPAddress.TryParse(value, out var address)
            ? address
            : throw new InvalidOperationException($"ForwardedHeaders:KnownProxies: '{value}' is not an IP address."))];
        IPNetwork[] networks = [.. List(settings.GetSection("KnownNetworks")).Select(value => IPNetwork.TryParse(value, out var network)
            ? network
            : throw new InvalidOperationException($"ForwardedHeaders:KnownNetworks: '{value}' is not a CIDR range such as 10.0.0.0/8."))];
        services.Configure<ForwardedHeadersOptions>(o =>
        {
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only what is configured: the defaults would trust loopback. One hop: the entry the proxy itself appended.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var proxy in proxies) o.KnownProxies.Add(proxy);
            foreach (var network in networks) o.KnownIPNetworks.Add(network);
            o.ForwardLimit = 1;
        });
    }

    /// <summary>First in the pipeline, when any proxy is configured: everything after it sees the client's address.</summary>
    public static void UseHubProxyHeaders(this WebApplication app)
    {
        var settings = app.Configuration.GetSection("ForwardedHeaders");
        if (List(settings.GetSection("KnownProxies")).Any() || List(settings.GetSection("KnownNetworks")).Any()) app.UseForwardedHeaders();
    }

    /// <summary>A setting given as a list (ForwardedHeaders__KnownProxies__0=...) or as one comma-separated value.</summary>
    private static string[] List(IConfigurationSection section)
    {
        var values = section.Value is { } list ? list.Split(',') : section.GetChildren().Select(c => c.Value ?? "");
        return [.. values.Select(v => v.Trim()).Where(v => v.Length > 0)];
    }
}
