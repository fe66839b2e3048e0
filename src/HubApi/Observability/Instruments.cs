using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace HubApi.Observability;

/// <summary>
/// The service's own metrics and spans, in one place every layer may use: a <see cref="Meter"/> and an
/// <see cref="ActivitySource"/> named "HubApi", and the instruments on them. Instruments cost next to nothing while
/// nobody listens (metrics off, no trace exporter), and even when someone does, they are recorded without allocating:
/// counters with no tags or with tags from a fixed set, histograms of values the caller has already.
/// <para>
/// Prometheus names follow from the OpenTelemetry ones (dots become underscores, the unit and <c>_total</c> are
/// appended): <c>hubapi.response_cache.hits</c> is scraped as <c>hubapi_response_cache_hits_total</c>.
/// docs/operations.md says what each one means.
/// </para>
/// </summary>
public static class Instruments
{
    public const string Name = "HubApi";

    public static readonly Meter Meter = new(Name);

    /// <summary>Spans around what the store does: SQL commands and commits.</summary>
    public static readonly ActivitySource Source = new(Name);

    /// <summary>
    /// A client span around one database operation (OpenTelemetry's database conventions: "SELECT firms", with
    /// db.system.name, db.operation.name and db.collection.name); null, at no cost, while no trace is being recorded.
    /// </summary>
    public static Activity? StartSql(string system, string operation, string? collection = null)
    {
        if (!Source.HasListeners()) return null;
        var span = Source.StartActivity(collection is null ? operation : operation + " " + collection, ActivityKind.Client);
        if (span is { IsAllDataRequested: true })
        {
            span.SetTag("db.system.name", system);
            span.SetTag("db.operation.name", operation);
            if (collection is not null) span.SetTag("db.collection.name", collection);
        }
        return span;
    }

    // ---- the response cache (Http/ResponseCache.cs)

    public static readonly Counter<long> CacheHits = Meter.CreateCounter<long>("hubapi.response_cache.hits", "{response}",
        "GET requests answered from the response cache, 200 or 304, without running their endpoint.");

    public static readonly Counter<long> CacheMisses = Meter.CreateCounter<long>("hubapi.response_cache.misses", "{response}",
        "GET requests a cacheable endpoint had to render because the cache held no current answer.");

    /// <summary>Why cached answers were retired: <see cref="RetiredByWrite"/> and its siblings.</summary>
    public static readonly Counter<long> CacheRetirements = Meter.CreateCounter<long>("hubapi.response_cache.retirements", "{retirement}",
        "Times cached answers were retired: by a write (its records and every list), by a flush of everything (reason=flush), " +
        "or because the cache was full (reason=full).");

    public static readonly KeyValuePair<string, object?> RetiredByWrite = new("reason", "write");
    public static readonly KeyValuePair<string, object?> RetiredByFlush = new("reason", "flush");
    public static readonly KeyValuePair<string, object?> RetiredWhenFull = new("reason", "full");

    // ---- writes and commits (Data/)

    public static readonly Histogram<double> CommitDuration = Meter.CreateHistogram("hubapi.commit.duration", "s",
        "How long a commit took (with SQLite, the transaction's disk flush shared by the writes of a batch).",
        advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5] });

    public static readonly Histogram<int> CommitBatchSize = Meter.CreateHistogram("hubapi.commit.batch_size", "{write}",
        "How many writes one commit made durable (SQLite's group commit; 1 with PostgreSQL).",
        advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32] });

    // ---- the edge (Http/)

    public static readonly Counter<long> RateLimitRejections = Meter.CreateCounter<long>("hubapi.rate_limit.rejections", "{request}",
        "Requests refused with 429 by a rate limit, by policy (anonymous: per client address; keyed: per API key).");

    public static readonly KeyValuePair<string, object?> AnonymousPolicy = new("policy", "anonymous");
    public static readonly KeyValuePair<string, object?> KeyedPolicy = new("policy", "keyed");

    /// <summary>Counts a 429; the rate limiter calls it from its rejection path, with the policy that refused.</summary>
    public static void RateLimitRejected(bool keyed) => RateLimitRejections.Add(1, keyed ? KeyedPolicy : AnonymousPolicy);

    public static readonly Counter<long> DatabaseFaults = Meter.CreateCounter<long>("hubapi.database.faults", "{response}",
        "Requests answered 503 (the database busy, unreachable or read-only) or 507 (full) because of a database fault, by status.");

    private static readonly KeyValuePair<string, object?> Status503 = new("http.response.status_code", 503);
    private static readonly KeyValuePair<string, object?> Status507 = new("http.response.status_code", 507);

    public static void DatabaseFault(int status) => DatabaseFaults.Add(1, status == 507 ? Status507 : Status503);

    // ---- figures read when scraped, from the objects that hold them

    static Instruments()
    {
        Meter.CreateObservableGauge("hubapi.response_cache.entries", () => Observe(cacheEntries), "{response}",
            "Responses the response cache holds (some may be retired already and are dropped when next asked for).");
        Meter.CreateObservableGauge("hubapi.write_queue.depth", () => Observe(writesWaiting), "{write}",
            "Writes waiting for their turn: SQLite's group-commit queue, or PostgreSQL's bounded write slots.");
        Meter.CreateObservableGauge("hubapi.writes.in_flight", () => Observe(writesInFlight), "{write}",
            "PostgreSQL writes holding a write slot (running or committing).");
        Meter.CreateObservableGauge("hubapi.change_feed.sequence", () => Observe(feedSequence), "{change}",
            "The newest change-feed seq this replica has committed or read from the feed; behind other replicas' by what its cache has yet to hear of.");
        Meter.CreateObservableGauge("hubapi.change_feed.lag", ObserveFeedLag, "s",
            "PostgreSQL: seconds since this replica last read the change feed to its end, so how stale its response cache may be " +
            "(at most the listener's poll, about 5 s, while it is connected; growing while it is not).");
    }

    private static Func<long>? cacheEntries, writesWaiting, writesInFlight;
    private static long feedSequence = -1;
    private static long feedReadAt;

    private static IEnumerable<Measurement<long>> Observe(Func<long>? read) => read is null ? [] : [new(read())];

    private static IEnumerable<Measurement<long>> Observe(long value) => value < 0 ? [] : [new(value)];

    private static IEnumerable<Measurement<double>> ObserveFeedLag() => Volatile.Read(ref feedReadAt) is var at and > 0
        ? [new(Stopwatch.GetElapsedTime(at).TotalSeconds)]
        : [];

    // A process serves one HubApi: the last object to register is the one observed (in-memory test hosts replace each other).

    public static void ObserveCacheEntries(Func<long> read) => cacheEntries = read;

    public static void ObserveWrites(Func<long> waiting, Func<long>? inFlight = null) => (writesWaiting, writesInFlight) = (waiting, inFlight);

    /// <summary>The newest seq this replica's changes reached, once it is committed (or read from the feed).</summary>
    public static void FeedSequence(long seq) => Volatile.Write(ref feedSequence, seq);

    /// <summary>This replica has just read the change feed to its end (a PostgreSQL listener's catch-up).</summary>
    public static void FeedRead(long seq)
    {
        FeedSequence(seq);
        Volatile.Write(ref feedReadAt, Stopwatch.GetTimestamp());
    }
}
