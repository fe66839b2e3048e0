using System.Collections.Concurrent;

namespace HubApi.Http;

/// <summary>
/// Rendered GET responses (bytes and ETag), reused until the next write. Every write calls
/// <see cref="Invalidate"/> after its transaction commits; an entry rendered before that is never served after it,
/// so no stale answer and no stale 304 can follow an acknowledged write.
/// </summary>
public sealed class ResponseCache
{
    private const int MaxEntries = 20_000;
    private readonly ConcurrentDictionary<string, (long Generation, JsonBody Body)> entries = new(StringComparer.Ordinal);
    private long generation;

    public long Generation => Interlocked.Read(ref generation);

    public void Invalidate()
    {
        Interlocked.Increment(ref generation);
        entries.Clear();
    }

    public JsonBody? Get(string key) =>
        entries.TryGetValue(key, out var entry) && entry.Generation == Generation ? entry.Body : null;

    public void Set(string key, long renderedAt, JsonBody body)
    {
        if (renderedAt != Generation) return;
        // A crude bound: the working set of a dataset API is small; a flood of distinct URLs only resets the cache.
        if (entries.Count >= MaxEntries) entries.Clear();
        entries[key] = (renderedAt, body);
    }
}

/// <summary>Serves repeated GETs from <see cref="ResponseCache"/>; exports and errors are never cached.</summary>
public sealed class ResponseCacheFilter(ResponseCache cache) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var request = context.HttpContext.Request;
        if (!HttpMethods.IsGet(request.Method) || Export.Negotiate(request) is not null) return await next(context);

        // The host is part of the key: Link headers carry absolute URLs.
        var key = string.Concat(request.Host.Value, request.PathBase.Value, request.Path.Value, request.QueryString.Value);
        if (cache.Get(key) is { } hit) return hit;
        var generation = cache.Generation;
        var result = await next(context);
        // Handlers return typed unions (Results<JsonBody, ...>); only a rendered JsonBody is worth keeping.
        var body = result switch { JsonBody b => b, INestedHttpResult { Result: JsonBody b } => b, _ => null };
        if (body is not null) cache.Set(key, generation, body);
        return result;
    }
}
