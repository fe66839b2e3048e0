using System.Data.Common;
using System.Text.Json.Nodes;
using Dapper;
using HubApi.Observability;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// The embedded engine: one SQLite file in WAL mode. Reads run on pooled connections, each in a snapshot; writes take
/// turns on one writer connection through the group-commit <see cref="WriteQueue"/>.
/// </summary>
public sealed class SqliteStore : IStore
{
    private readonly ResourceCatalog catalog;
    private readonly WriteQueue queue;
    private readonly SqliteReader reader;
    private readonly RecordWriter writer;

    public SqliteStore(SqliteDatabase database, ResourceCatalog catalog)
    {
        Database = database;
        this.catalog = catalog;
        queue = new WriteQueue(database);
        Instruments.ObserveWrites(() => queue.Waiting);
        reader = new SqliteReader(catalog, database.Open);
        writer = new RecordWriter(catalog, new FullText(catalog), reader);
        Keys = new SqlApiKeys(database.Open);
    }

    /// <summary>db/migrations, SQLite's schema.</summary>
    public static readonly Migrations Migrations = new(Path.Combine(AppContext.BaseDirectory, "db", "migrations"));

    /// <summary>The file and its connections, for what only SQLite has: backups, restores, pragmas.</summary>
    public SqliteDatabase Database { get; }

    public string Location => Database.DataSource;

    public IApiKeyStore Keys { get; }

    public event Action<IReadOnlyCollection<string>>? Committed
    {
        add => queue.Committed += value;
        remove => queue.Committed -= value;
    }

    public void Initialize(ILogger logger, bool seed = true)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(Location)) is { } folder && Location != ":memory:") Directory.CreateDirectory(folder);
        using var connection = Database.Open();
        // WAL is a property of the database file, set once: readers never block the writer.
        connection.Execute("pragma journal_mode = wal");
        var applied = Migrations.Migrate(connection);
        if (applied > 0) logger.LogInformation("Applied {Count} migration(s) to {Database}", applied, Location);
        if (seed && catalog.All.All(r => connection.ExecuteScalar<long>($"select count(*) from (select 1 from {r.Table} limit 1)") == 0))
        {
            var count = Seed(connection, SeedData.Load());
            logger.LogInformation("Loaded {Count} records from the seed dataset", count);
        }
        try
        {
            Instruments.FeedSequence(connection.ExecuteScalar<long>("select coalesce(max(seq), 0) from changes"));
        }
        catch (SqliteException)
        {
            // A metric never stops start-up: a damaged feed is answered 503 when read, and the next commit sets the figure.
        }
    }

    /// <summary>Loads a dataset in one transaction, through the same write path as the API.</summary>
    private int Seed(SqliteConnection connection, JsonObject dataset)
    {
        var now = Timestamps.Now();
        var count = 0;
        using var tx = connection.BeginTransaction();
        foreach (var (resource, record) in SeedData.InLoadOrder(catalog, dataset))
        {
            writer.Insert(connection, tx, resource, record, now, Writers.Seed);
            count++;
        }
        tx.Commit();
        return count;
    }

    public bool IsReady()
    {
        using var connection = Database.Open();
        return Migrations.IsCurrent(connection);
    }

    /// <summary>Closes the writer once the writes in progress are done, folds the WAL back into the file, and closes.</summary>
    public void Close()
    {
        queue.CloseWriter();
        using (var connection = Database.Open()) connection.Execute("pragma wal_checkpoint(truncate)");
        Database.ClearPool();
    }

    public IReadSession BeginRead() => reader.BeginRead();

    public async Task<IWriteSession> BeginWriteAsync(string by, CancellationToken cancellation) =>
        new WriteSession(this, await queue.BeginWriteAsync(cancellation), by);

    public IEnumerable<Row> Stream(ListQuery query) => reader.Stream(query);

    public IReadOnlyList<ChangeRow> Changes(long after, IReadOnlyCollection<string> resources, int limit) => reader.Changes(after, resources, limit);

    public IReadOnlyList<ChangeRow> Audit(IReadOnlyCollection<string> keys, IReadOnlyCollection<string> resources, long? before, int limit) =>
        reader.Audit(keys, resources, before, limit);

    public (IReadOnlyList<VersionRow> Page, VersionRow? Before) History(Resource resource, string id, long? after, bool oldestFirst, int limit) =>
        reader.History(resource, id, after, oldestFirst, limit);

    public VersionRow? Version(Resource resource, string id, long version) => reader.Version(resource, id, version);

    /// <summary>
    /// A busy or locked database is temporary (503 with Retry-After, never a hang or a 500); a full disk is 507; a
    /// read-only, unreadable or damaged database is 503.
    /// </summary>
    public StoreFault? Fault(DbException exception) => exception is not SqliteException sqlite ? null : (sqlite.SqliteErrorCode & 0xFF) switch
    {
        5 or 6 => new(503, 1, "The database is busy; retry shortly."),                       // BUSY, LOCKED
        13 => new(507, 60, "The database has no room left for this write."),                  // FULL
        8 => new(503, 60, "The database is read-only at the moment; writes are refused."),    // READONLY
        10 or 14 => new(503, 30, "The database cannot be read or written at the moment."),    // IOERR, CANTOPEN
        11 or 26 => new(503, 60, "The database is damaged; the operator has been told."),     // CORRUPT, NOTADB
        _ => null,
    };

    /// <summary>One write's statements, all inside its savepoint of the shared transaction (<see cref="WriteTransaction"/>).</summary>
    private sealed class WriteSession(SqliteStore store, WriteTransaction write, string by) : IWriteSession
    {
        private SqliteConnection Connection => write.Connection;
        private SqliteTransaction Transaction => write.Transaction;

        public Row? Get(Resource resource, string id) => store.reader.Get(Connection, resource, id, Transaction);

        public bool Exists(Resource resource, string id) => store.reader.Exists(Connection, resource, id, Transaction);

        public bool WasUsed(Resource resource, string id) => RecordWriter.WasUsed(Connection, Transaction, resource, id);

        public IReadOnlyList<Reference> References(Resource resource, string id) => store.writer.References(Connection, Transaction, resource, id);

        public void Insert(Resource resource, JsonObject record)
        {
            using var span = Instruments.StartSql("sqlite", "INSERT", resource.Table);
            store.writer.Insert(Connection, Transaction, resource, record, Timestamps.Now(), by);
        }

        public void Update(Resource resource, string id, JsonObject record, Row before)
        {
            using var span = Instruments.StartSql("sqlite", "UPDATE", resource.Table);
            store.writer.Update(Connection, Transaction, resource, id, record, before, Timestamps.Now(), by);
        }

        public void Delete(Resource resource, string id)
        {
            using var span = Instruments.StartSql("sqlite", "DELETE", resource.Table);
            store.writer.Delete(Connection, Transaction, resource, id, Timestamps.Now(), by);
        }

        public StoredResponse? FindResponse(string owner, string key, DateTime notBefore)
        {
            // Expired keys go first, so an old key starts afresh rather than replaying a stale response.
            Connection.Execute("delete from idempotency_keys where created_at < @cutoff", new { cutoff = Timestamps.Of(notBefore) }, Transaction);
            const string sql = """
                select request_hash as RequestHash, status, location, etag, body
                from idempotency_keys where api_key_id = @owner and key = @key
                """;
            return Connection.QuerySingleOrDefault<StoredResponse>(sql, new { owner, key }, Transaction);
        }

        public void SaveResponse(string owner, string key, StoredResponse response)
        {
            const string sql = """
                insert into idempotency_keys (api_key_id, key, request_hash, status, location, etag, body, created_at)
                values (@owner, @key, @RequestHash, @Status, @Location, @ETag, @Body, @now)
                """;
            Connection.Execute(sql, new { owner, key, response.RequestHash, response.Status, response.Location, response.ETag, response.Body, now = Timestamps.Now() },
                Transaction);
        }

        public void Complete(string[] changed, Action? committed = null) => write.Complete(changed, committed);

        public ValueTask DisposeAsync() => write.DisposeAsync();
    }
}
