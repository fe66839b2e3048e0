using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using HubApi.Observability;
using HubApi.Resources;

namespace HubApi.Http;

/// <summary>
/// Rendered GET responses (bytes and ETag), reused until a write changes what they show. After every commit,
/// <see cref="Invalidate"/> is called with what each write in it changed, before any of them is answered; an entry
/// rendered before that is never served after it, so no stale answer and no stale 304 can follow an acknowledged write.
/// <para>
/// A record's own response (<c>GET /v1/{resource}/{id}</c>) shows that record alone, so only a write to it, or one that
/// adds or removes a link to it in a link table both sides list, retires it; under a steady stream of writes the
/// records nobody writes stay cached, and a write leaves its own answer as the record's next GET (<see cref="Prime"/>).
/// Every other response (lists, searches, facets, includes) may show any record and is retired by every write.
/// </para>
/// </summary>
/// <param name="catalog">The resources whose responses it keeps.</param>
/// <param name="maxEntries">ResponseCache:MaxEntries, how many responses it holds at most; 0 turns it off.</param>
public sealed class ResponseCache(ResourceCatalog catalog, int maxEntries = ResponseCache.DefaultMaxEntries)
{
    public const int DefaultMaxEntries = 20_000;
    private const int MaxWritten = 100_000;

    private readonly ConcurrentDictionary<string, Entry> entries = new(StringComparer.Ordinal);
    /// <summary>For each record ("firms/smic") a write changed: the generation its commit announced it at.</summary>
    private readonly ConcurrentDictionary<string, long> written = new(StringComparer.Ordinal);
    private long generation;
    /// <summary>Record entries older than this are retired wholesale: <see cref="written"/> was emptied then.</summary>
    private long floor;

    private sealed record Entry(long Stamp, string[]? Record, JsonBody Body);

    /// <summary>How many responses it holds (some may be retired already, and go when next asked for).</summary>
    public int Count => entries.Count;

    /// <summary>Read before rendering; pass it to <see cref="Set"/> with what was rendered.</summary>
    public long Generation => Volatile.Read(ref generation);

    /// <summary>
    /// What a write to a record changes, for <see cref="Invalidate"/>: the record, and every record on the other side of
    /// a link it added or removed in a link table another resource lists too (a zone's industries are an industry's
    /// zones). <paramref name="before"/> is the record as it was (null for a create), <paramref name="after"/> as written
    /// (null for a delete).
    /// </summary>
    public string[] Changes(Resource resource, string id, Row? before, JsonObject? after)
    {
        var changed = new List<string> { RecordTag(resource, id) };
        foreach (var (relation, other) in sharedLinks[resource])
        {
            var old = before?.Many[relation.Name] ?? [];
            var now = (after?[relation.Name] as JsonArray ?? []).Select(n => n!.GetValue<string>());
            var moved = new HashSet<string>(old, StringComparer.Ordinal);
            moved.SymmetricExceptWith(now);
            changed.AddRange(moved.Select(target => RecordTag(other, target)));
        }
        return [.. changed];
    }

    /// <summary>Each resource's to-many relations whose link table another resource lists too, with that resource.</summary>
    private readonly Dictionary<Resource, (Relation Relation, Resource Other)[]> sharedLinks = catalog.All.ToDictionary(r => r, r =>
        r.ToMany.SelectMany(relation => catalog.All
            .Where(other => other != r && other.ToMany.Any(o => o.JoinTable == relation.JoinTable))
            .Select(other => (relation, other))).ToArray());

    private static string RecordTag(Resource resource, string id) => resource.Name + "/" + id;

    /// <summary>
    /// Called after each commit, once for each write in it, in the order they ran, with the write's <see cref="Changes"/>;
    /// with <see cref="Data.StoreChanges.Everything"/>, every entry is retired.
    /// </summary>
    public void Invalidate(IReadOnlyCollection<string> changed)
    {
        var now = Interlocked.Increment(ref generation);
        if (written.Count + changed.Count > MaxWritten || changed.Contains(Data.StoreChanges.Everything))
        {
            Volatile.Write(ref floor, now);
            written.Clear();
            Instruments.CacheRetirements.Add(1, Instruments.RetiredByFlush);
        }
        else
        {
            Instruments.CacheRetirements.Add(1, Instruments.RetiredByWrite);
        }
        foreach (var tag in changed) written[tag] = now;
    }

    public JsonBody? Get(string key) => entries.TryGetValue(key, out var entry) && IsCurrent(entry.Stamp, entry.Record) ? entry.Body : null;

    /// <param name="key">The request's URL.</param>
    /// <param name="renderedAt">The <see cref="Generation"/> read before the response was rendered.</param>
    /// <param name="record">For a record's own response, its resource and id; null for any other.</param>
    /// <param name="body">What was rendered.</param>
    public void Set(string key, long renderedAt, (Resource Resource, string Id)? record, JsonBody body)
    {
        string[]? tags = record is var (resource, id) ? [RecordTag(resource, id)] : null;
        if (maxEntries == 0 || !IsCurrent(renderedAt, tags)) return;
        // A crude bound: the working set of a dataset API is small; a flood of distinct URLs only resets the cache.
        if (entries.Count >= maxEntries)
        {
            entries.Clear();
            Instruments.CacheRetirements.Add(1, Instruments.RetiredWhenFull);
        }
        entries[key] = new Entry(renderedAt, tags, body);
    }

    /// <summary>
    /// What keeps a written record's rendering (<paramref name="body"/>, as its GET renders it) as the answer to the GET
    /// at <paramref name="key"/>: for <see cref="Data.IWriteSession.Complete"/>, which runs it once the write is committed
    /// and its changes are retired, before any later write's are; a later write that changes the record retires it.
    /// </summary>
    public Action Prime(string key, Resource resource, string id, JsonBody body) => () => Set(key, Generation, (resource, id), body);

    private bool IsCurrent(long stamp, string[]? record)
    {
        if (record is null) return stamp == Generation;
        if (stamp < Volatile.Read(ref floor)) return false;
        foreach (var tag in record)
        {
            if (written.TryGetValue(tag, out var changedAt) && changedAt > stamp) return false;
        }
        return true;
    }
}

/// <summary>
/// Fills <see cref="ResponseCache"/> with the JSON the resource endpoints render; <see cref="ResponseCacheMiddleware"/>
/// serves it. Exports and errors are never cached.
/// </summary>
public sealed class ResponseCacheFilter(ResponseCache cache) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        if (ResponseCacheMiddleware.KeyOf(http.Request) is not { } key) return await next(context);
        Instruments.CacheMisses.Add(1);
        var generation = cache.Generation;
        var result = await next(context);
        // Handlers return typed unions (Results<JsonBody, ...>); only a rendered JsonBody is worth keeping.
        var body = result switch { JsonBody b => b, INestedHttpResult { Result: JsonBody b } => b, _ => null };
        if (body is null) return result;
        var record = http.GetEndpoint()?.Metadata.GetMetadata<ItemEndpoint>() is { } item && http.Request.RouteValues["id"] is string id
            ? (item.Resource, id)
            : ((Resource, string)?)null;
        cache.Set(key, generation, record, body);
        return result;
    }
}

/// <summary>
/// Answers a GET from <see cref="ResponseCache"/> (200, or 304 to a matching If-None-Match) as soon as the request has
/// passed CORS, rate limits and the security headers: a repeated read skips time-outs, authorization and the endpoint.
/// </summary>
public static class ResponseCacheMiddleware
{
    public static void UseResponseCache(this WebApplication app)
    {
        var cache = app.Services.GetRequiredService<ResponseCache>();
        app.Use((http, next) =>
        {
            if (KeyOf(http.Request) is not { } key || cache.Get(key) is not { } hit) return next(http);
            Instruments.CacheHits.Add(1);
            return hit.ExecuteAsync(http);
        });
    }

    /// <summary>The cache key of a GET that may be cached (not an export); null for any other request.</summary>
    public static string? KeyOf(HttpRequest request) =>
        HttpMethods.IsGet(request.Method) && Export.Negotiate(request) is null
            ? Key(request.Scheme, request.Host, request.PathBase.Value, request.Path.Value, request.QueryString.Value)
            : null;

    /// <summary>
    /// The cache key of a GET of this URL; scheme and host are part of it, as Link headers carry absolute URLs (behind a
    /// proxy the scheme is the client's, from X-Forwarded-Proto).
    /// </summary>
    public static string Key(string scheme, HostString host, string? pathBase, string? path, string? query = null) =>
        string.Concat(scheme, "://", host.Value, pathBase, path, query);
}
