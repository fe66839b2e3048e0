using System.Data;
using System.Data.Common;
using System.Text.Json.Nodes;
using System.Diagnostics;
using Dapper;
using HubApi.Observability;
using HubApi.Query;
using HubApi.Resources;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// The server engine (Database:Provider=Postgres): one <see cref="NpgsqlDataSource"/> over ConnectionStrings:Hub, which may
/// name several hosts (Npgsql picks the primary when the string asks for Target Session Attributes=primary). Reads run
/// in a read-only REPEATABLE READ snapshot each; writes run concurrently, each in its own transaction.
/// </summary>
public sealed class PostgresStore : IStore, IDisposable
{
    private readonly NpgsqlDataSource dataSource;
    private readonly ResourceCatalog catalog;
    /// <summary>Commits of this process, with their announcements, one at a time: see <see cref="CommitAsync"/>.</summary>
    private readonly SemaphoreSlim commitTurn = new(1, 1);

    /// <summary>
    /// How many writes of this process run at once. The seam is synchronous, so a write that waits for a row lock
    /// another write holds blocks its thread: without a bound, a burst of writes to one record would block every
    /// thread of the pool, and the write holding the lock would find none to finish on. The rest wait here, holding
    /// no thread and no lock; the pool keeps that many threads more on hand (<see cref="ReserveThreads"/>).
    /// </summary>
    public const int MaxConcurrentWrites = 8;

    /// <summary>How long a write waits for its turn before it is answered 503 + Retry-After.</summary>
    public static readonly TimeSpan WriteWait = TimeSpan.FromSeconds(10);

    private readonly SemaphoreSlim writeSlots = new(MaxConcurrentWrites, MaxConcurrentWrites);
    /// <summary>Writes waiting for a slot (a metric).</summary>
    private int waiting;
    private readonly ChangeListener listener;
    private int closed;

    public PostgresStore(string connectionString, ResourceCatalog catalog)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        Location = $"postgresql://{builder.Host}:{builder.Port}/{builder.Database}";
        // Named, so Npgsql's metrics and spans say "hubapi" rather than the connection string (hosts, user, database).
        dataSource = new NpgsqlDataSourceBuilder(connectionString) { Name = "hubapi" }.Build();
        this.catalog = catalog;
        listener = new ChangeListener(dataSource, AnnounceAsync);
        Reader = new PgReader(catalog, dataSource.OpenConnection);
        Writer = new PgRecordWriter(catalog, listener.Own, Reader);
        Keys = new SqlApiKeys(dataSource.OpenConnection);
        Permits = new PgPermitLedger(dataSource);
        _ = ReserveThreads.Value;
        Instruments.ObserveWrites(() => Volatile.Read(ref waiting), () => MaxConcurrentWrites - writeSlots.CurrentCount);
    }

    /// <summary>Raises the thread pool's minimum once per process by the writes that may block at once, so the pool never has to grow slowly into them.</summary>
    private static readonly Lazy<bool> ReserveThreads = new(() =>
    {
        ThreadPool.GetMinThreads(out var workers, out var io);
        return ThreadPool.SetMinThreads(workers + MaxConcurrentWrites, io);
    });

    internal PgReader Reader { get; }
    internal PgRecordWriter Writer { get; }

    public string Location { get; }

    public IApiKeyStore Keys { get; }

    /// <summary>Replicas on one database count API keys' rate-limit permits together.</summary>
    public IPermitLedger Permits { get; }

    public event Action<IReadOnlyCollection<string>>? Committed;

    public void Initialize(ILogger logger, bool seed = true)
    {
        using var connection = dataSource.OpenConnection();
        var (applied, seeded) = PgMigrator.Locked(connection, () =>
        {
            var count = PgMigrator.Migrations.Migrate(connection);
            // Under the same lock, so replicas starting on an empty database load the seed once.
            var empty = seed && catalog.All.All(r => !connection.ExecuteScalar<bool>($"select exists (select 1 from {r.Table})"));
            return (count, empty ? Seed(connection, SeedData.Load()) : 0);
        });
        if (applied > 0) logger.LogInformation("Applied {Count} migration(s) to {Database}", applied, Location);
        if (seeded > 0) logger.LogInformation("Loaded {Count} records from the seed dataset", seeded);
        // Someone keeps what commits change (the response cache): tell them of other replicas' writes too.
        if (Committed is not null) listener.Start(logger);
    }

    /// <summary>Loads a dataset in one transaction, through the same write path as the API.</summary>
    private int Seed(NpgsqlConnection connection, JsonObject dataset)
    {
        var now = Timestamps.Now();
        var count = 0;
        using var tx = connection.BeginTransaction();
        var feed = new List<FeedRow>();
        foreach (var (resource, record) in SeedData.InLoadOrder(catalog, dataset))
        {
            Writer.Insert(connection, resource, record, now, Writers.Seed, feed);
            count++;
        }
        Writer.AppendChanges(connection, feed);
        tx.Commit();
        return count;
    }

    public bool IsReady()
    {
        using var connection = dataSource.OpenConnection();
        return PgMigrator.Migrations.IsCurrent(connection);
    }

    /// <summary>Lets the writes in progress commit, then closes every connection.</summary>
    public void Close()
    {
        if (Interlocked.Exchange(ref closed, 1) != 0) return;
        listener.Stop();
        if (commitTurn.Wait(TimeSpan.FromSeconds(5))) commitTurn.Release();
        dataSource.Dispose();
    }

    public void Dispose() => Close();

    public IReadSession BeginRead() => Reader.BeginRead();

    public async Task<IWriteSession> BeginWriteAsync(string by, CancellationToken cancellation)
    {
        Interlocked.Increment(ref waiting);
        bool entered;
        try
        {
            entered = await writeSlots.WaitAsync(WriteWait, cancellation);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
        if (!entered) throw new WritesBusyException();
        NpgsqlConnection? connection = null;
        try
        {
            connection = await dataSource.OpenConnectionAsync(cancellation);
            var transaction = await connection.BeginTransactionAsync(IsolationLevel.ReadCommitted, cancellation);
            return new PgWriteSession(this, connection, transaction, by);
        }
        catch
        {
            if (connection is not null) await connection.DisposeAsync();
            writeSlots.Release();
            throw;
        }
    }

    /// <summary>Ends a write's turn (<see cref="PgWriteSession.DisposeAsync"/>).</summary>
    internal void EndWrite() => writeSlots.Release();

    /// <summary>
    /// Commits a write and announces it (<see cref="Committed"/>, then its own action) before the next write of this
    /// process commits. Writes to the same record commit in the order they locked it, and the announcements follow
    /// that order, so a later write's cached answer is never replaced by an earlier one's. Writers hold the feed lock
    /// until their commit, so no commit waits here while another write holds a lock it needs. The commit notifies
    /// the other replicas (<see cref="ChangeListener"/>) with what the write changed.
    /// </summary>
    internal async Task CommitAsync(NpgsqlTransaction transaction, string[] changes, Action? committed)
    {
        await transaction.Connection!.ExecuteAsync("select pg_notify(@Channel, @payload)",
            new { ChangeListener.Channel, payload = listener.Payload(changes) }, transaction);
        await commitTurn.WaitAsync();
        try
        {
            using (Instruments.StartSql("postgresql", "COMMIT"))
            {
                var started = Stopwatch.GetTimestamp();
                await transaction.CommitAsync();
                Instruments.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
                Instruments.CommitBatchSize.Record(1);
            }
            Committed?.Invoke(changes);
            committed?.Invoke();
        }
        finally
        {
            commitTurn.Release();
        }
    }

    /// <summary>Announces other replicas' writes, in turn with this replica's own commits.</summary>
    private async Task AnnounceAsync(IReadOnlyCollection<string> changes)
    {
        await commitTurn.WaitAsync();
        try
        {
            Committed?.Invoke(changes);
        }
        finally
        {
            commitTurn.Release();
        }
    }

    public IEnumerable<Row> Stream(ListQuery query) => Reader.Stream(query);

    public IReadOnlyList<ChangeRow> Changes(long after, IReadOnlyCollection<string> resources, int limit) => Reader.Changes(after, resources, limit);

    public IReadOnlyList<ChangeRow> Audit(IReadOnlyCollection<string> keys, IReadOnlyCollection<string> resources, long? before, int limit) =>
        Reader.Audit(keys, resources, before, limit);

    public (IReadOnlyList<VersionRow> Page, VersionRow? Before) History(Resource resource, string id, long? after, bool oldestFirst, int limit) =>
        Reader.History(resource, id, after, oldestFirst, limit);

    public VersionRow? Version(Resource resource, string id, long version) => Reader.Version(resource, id, version);

    /// <summary>
    /// While the server cannot be reached, is shutting down or starting, has no connection left, or cancels a write that
    /// conflicted with another: 503 with Retry-After, never a 500. A full disk: 507.
    /// </summary>
    public StoreFault? Fault(DbException exception) => exception switch
    {
        WritesBusyException => new(503, 1, "The database is busy with other writes; retry shortly."),
        PostgresException { SqlState: "53100" } => new(507, 60, "The database has no room left for this write."),
        PostgresException { SqlState: "40001" or "40P01" or "55P03" } => new(503, 1, "The write met a concurrent one; retry shortly."),
        PostgresException { SqlState: "57P01" or "57P02" or "57P03" } => new(503, 5, "The database is restarting; retry shortly."),
        PostgresException { SqlState: "53300" or "53200" or "53000" } => new(503, 5, "The database is out of resources at the moment; retry shortly."),
        PostgresException { SqlState: "25006" } => new(503, 5, "The database is read-only at the moment (a standby); writes are refused."),
        PostgresException { SqlState: "57014" } => new(503, 5, "The database cancelled the statement; retry shortly."),
        PostgresException { SqlState: "58030" or "XX001" or "XX002" } => new(503, 30, "The database cannot read or write its files at the moment."),
        PostgresException { SqlState: var state } when state.StartsWith("08", StringComparison.Ordinal) =>
            new(503, 5, "The database cannot be reached at the moment; retry shortly."),
        PostgresException => null,
        // Not an answer from the server: it could not be reached, or the connection broke or timed out.
        NpgsqlException => new(503, 5, "The database cannot be reached at the moment; retry shortly."),
        _ => null,
    };

}

/// <summary>A write that waited <see cref="PostgresStore.WriteWait"/> for its turn in vain (503 + Retry-After).</summary>
public sealed class WritesBusyException() : DbException("The writes ahead of this one did not finish in time.");
