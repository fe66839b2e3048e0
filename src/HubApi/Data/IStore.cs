using System.Data.Common;
using System.Text.Json.Nodes;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>
/// The storage seam: everything the service asks of its database, whatever the engine. SQLite implements it
/// (<c>Data/Sqlite</c>). An engine keeps, for every write, the record, its links, citations, search entry and
/// change-feed row in one transaction, and raises <see cref="Committed"/> once that transaction is durable.
/// Its errors are <see cref="DbException"/>s, which <see cref="Fault"/> translates for clients.
/// </summary>
public interface IStore
{
    /// <summary>Where the data lives (a file, a server), for logs and operators' messages; never a password.</summary>
    string Location { get; }

    /// <summary>Brings the database to this build's schema and, when it holds no records, loads the seed dataset (unless <paramref name="seed"/> is false: an import's empty database).</summary>
    void Initialize(ILogger logger, bool seed = true);

    /// <summary>Whether the database answers and carries every migration this build knows (readiness).</summary>
    bool IsReady();

    /// <summary>On shutdown, after the last request: lets the writes in progress finish and leaves the database tidy.</summary>
    void Close();

    /// <summary>A read of one snapshot: every statement in it sees the same committed state. Dispose it promptly.</summary>
    IReadSession BeginRead();

    /// <summary>
    /// Begins a write; writes take turns. Disposing the session ends it and waits until it is durable (or throws): a
    /// write is answered only after that. Every change it makes is recorded as written <paramref name="by"/>: the name of
    /// an API key, or one of <see cref="Writers"/>.
    /// </summary>
    Task<IWriteSession> BeginWriteAsync(string by, CancellationToken cancellation);

    /// <summary>
    /// Raised after every commit, once for each write in it, in the order they ran and before any is answered, with what
    /// that write said it changed (<see cref="IWriteSession.Complete"/>); never twice at once. An engine shared with
    /// other processes raises it for their writes too, as it learns of them, and with <see cref="StoreChanges.Everything"/>
    /// when it may have missed some.
    /// </summary>
    event Action<IReadOnlyCollection<string>>? Committed;

    /// <summary>Every record the query matches, in its order, read a batch at a time so memory stays flat (exports).</summary>
    IEnumerable<Row> Stream(ListQuery query);

    /// <summary>The change feed after <paramref name="after"/>, in commit order, of the named resources (all when none).</summary>
    IReadOnlyList<ChangeRow> Changes(long after, IReadOnlyCollection<string> resources, int limit);

    /// <summary>The writes by the named keys to the named resources (all when none), newest first, before the seq <paramref name="before"/>.</summary>
    IReadOnlyList<ChangeRow> Audit(IReadOnlyCollection<string> keys, IReadOnlyCollection<string> resources, long? before, int limit);

    /// <summary>
    /// A page of one record's versions (deleted or not), newest first or oldest first, after the seq <paramref name="after"/>
    /// in that order, with the version just before the page's oldest, against which its change is told.
    /// </summary>
    (IReadOnlyList<VersionRow> Page, VersionRow? Before) History(Resource resource, string id, long? after, bool oldestFirst, int limit);

    /// <summary>One version of a record with its snapshot; null when it never had that version, or that version is its deletion.</summary>
    VersionRow? Version(Resource resource, string id, long version);

    IApiKeyStore Keys { get; }

    /// <summary>
    /// Where processes sharing this database count rate-limit permits together, or null when the engine serves one
    /// process (SQLite), whose limits are counted in memory alone.
    /// </summary>
    IPermitLedger? Permits => null;

    /// <summary>What one of this engine's errors means for a client (busy, full, unavailable), or null when it is not one.</summary>
    StoreFault? Fault(DbException exception);
}

/// <summary>What <see cref="IStore.Committed"/> can name besides records ("firms/smic").</summary>
public static class StoreChanges
{
    /// <summary>
    /// Anything may have changed: an engine whose database other processes write to says so when it may have missed
    /// their writes (a lost notification connection, or one just made).
    /// </summary>
    public const string Everything = "*";
}

/// <summary>A database error as a client should hear it: the status, how long to wait, and what happened.</summary>
public sealed record StoreFault(int Status, int RetryAfterSeconds, string Detail);

/// <summary>Reads one record by id, as the session it belongs to sees the database.</summary>
public interface IRecordSource
{
    Row? Get(Resource resource, string id);

    bool Exists(Resource resource, string id);
}

/// <summary>Reads of one snapshot (<see cref="IStore.BeginRead"/>).</summary>
public interface IReadSession : IRecordSource, IDisposable
{
    /// <summary>A page of the query's records; null when its cursor was not issued for this query.</summary>
    RowPage? List(ListQuery query);

    /// <summary>For each facet, the most frequent values among the records the query matches, with their counts.</summary>
    Dictionary<string, List<FacetCount>> Facets(ListQuery query, IEnumerable<string> by);
}

/// <summary>
/// One write (<see cref="IStore.BeginWriteAsync"/>). Everything it does is one unit: call <see cref="Complete"/> when
/// done, or dispose without it to undo the lot.
/// </summary>
public interface IWriteSession : IRecordSource, IAsyncDisposable
{
    /// <summary>Whether the id was ever used for this resource, by a live record or a deleted one: ids are never reused.</summary>
    bool WasUsed(Resource resource, string id);

    /// <summary>The records that still point at a record: by the relations that target it, and, for sources, by citations.</summary>
    IReadOnlyList<Reference> References(Resource resource, string id);

    /// <summary>Stores a new record from its JSON form (validated), with its links, citations, search entry and feed row.</summary>
    void Insert(Resource resource, JsonObject record);

    /// <summary>Replaces every writable property of the record as it was <paramref name="before"/>.</summary>
    void Update(Resource resource, string id, JsonObject record, Row before);

    /// <summary>Removes the record with its links, citations and search entry; the feed records a tombstone.</summary>
    void Delete(Resource resource, string id);

    /// <summary>The response kept for an Idempotency-Key, unless it is older than <paramref name="notBefore"/> (then it is forgotten).</summary>
    StoredResponse? FindResponse(string owner, string key, DateTime notBefore);

    void SaveResponse(string owner, string key, StoredResponse response);

    /// <summary>
    /// Keeps the write, with what it changed, for <see cref="IStore.Committed"/>. <paramref name="committed"/>, if given,
    /// runs right after that announcement, before any later write's and before any write is answered.
    /// </summary>
    void Complete(string[] changed, Action? committed = null);
}

/// <summary>A write's response as kept for an Idempotency-Key replay.</summary>
public sealed record StoredResponse(string RequestHash, long Status, string? Location, string? ETag, byte[] Body);
