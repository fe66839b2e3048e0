using System.Text.Json.Nodes;
using Dapper;
using HubApi.Observability;
using HubApi.Resources;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// One write: its own connection and READ COMMITTED transaction, beside any number of others (PostgreSQL admits concurrent
/// writers, so there is no queue). What two writes could race on is locked for the rest of the transaction: the record
/// it reads to change (<see cref="Get"/>, FOR NO KEY UPDATE), the records it refers to and the ids it finds free
/// (<see cref="Exists"/>), a record it deletes (<see cref="References"/>, FOR UPDATE), an Idempotency-Key
/// (<see cref="FindResponse"/>), and the feed (appended just before the commit). Disposing commits when
/// <see cref="Complete"/> was called, and rolls back otherwise.
/// </summary>
internal sealed class PgWriteSession(PostgresStore store, NpgsqlConnection connection, NpgsqlTransaction transaction, string by) : IWriteSession
{
    /// <summary>Advisory lock classes for ids being created and Idempotency-Keys, keyed by a hash of the text.</summary>
    private const int IdLock = 0x48554203, KeyLock = 0x48554204;

    private string[]? changes;
    /// <summary>The feed rows of this write, appended just before it commits (<see cref="PgRecordWriter.AppendChanges"/>).</summary>
    private readonly List<FeedRow> feed = [];
    private Action? committed;
    private bool disposed;

    /// <summary>The record as it is now, its row locked until this write ends: a second writer with the same If-Match waits, then sees the new ETag.</summary>
    public Row? Get(Resource resource, string id) => store.Reader.Get(connection, resource, id, forUpdate: true);

    /// <summary>
    /// Whether the record exists, as this write will find it at its commit. A record found is share-locked, so it cannot be
    /// deleted under a write that refers to it. An id not found is locked for this write, then looked up again: of two
    /// writes creating the same id, the second waits for the first and then finds its record (409, never a key violation).
    /// </summary>
    public bool Exists(Resource resource, string id)
    {
        if (store.Reader.Exists(connection, resource, id, keyShare: true)) return true;
        connection.Execute("select pg_advisory_xact_lock(@IdLock, hashtext(@key))", new { IdLock, key = resource.Name + "/" + id });
        return store.Reader.Exists(connection, resource, id, keyShare: true);
    }

    public bool WasUsed(Resource resource, string id) => PgRecordWriter.WasUsed(connection, resource, id);

    public IReadOnlyList<Reference> References(Resource resource, string id) => store.Writer.References(connection, resource, id);

    // Each write is a span of its own, around Npgsql's spans of the commands it runs.

    public void Insert(Resource resource, JsonObject record)
    {
        using var span = Instruments.StartSql("postgresql", "INSERT", resource.Table);
        store.Writer.Insert(connection, resource, record, Timestamps.Now(), by, feed);
    }

    public void Update(Resource resource, string id, JsonObject record, Row before)
    {
        using var span = Instruments.StartSql("postgresql", "UPDATE", resource.Table);
        store.Writer.Update(connection, resource, id, record, before, Timestamps.Now(), by, feed);
    }

    public void Delete(Resource resource, string id)
    {
        using var span = Instruments.StartSql("postgresql", "DELETE", resource.Table);
        store.Writer.Delete(connection, resource, id, Timestamps.Now(), by, feed);
    }

    /// <summary>Takes the key's lock first: a concurrent retry with the same key waits for this write, then replays its answer.</summary>
    public StoredResponse? FindResponse(string owner, string key, DateTime notBefore)
    {
        connection.Execute("select pg_advisory_xact_lock(@KeyLock, hashtext(@lockKey))", new { KeyLock, lockKey = owner + "\n" + key });
        var cutoff = Timestamps.Of(notBefore);
        // Expired keys go, a batch at a time and never waiting on another write's; an expired key is never replayed.
        connection.Execute("""
            delete from idempotency_keys where ctid = any (array (
                select ctid from idempotency_keys where created_at < @cutoff order by created_at limit 100 for update skip locked))
            """, new { cutoff });
        const string sql = """
            select request_hash as RequestHash, status, location, etag, body
            from idempotency_keys where api_key_id = @owner and key = @key and created_at >= @cutoff
            """;
        return connection.QuerySingleOrDefault<StoredResponse>(sql, new { owner, key, cutoff });
    }

    /// <summary>Keeps the response, replacing an expired one for the same key that is still stored.</summary>
    public void SaveResponse(string owner, string key, StoredResponse response)
    {
        const string sql = """
            insert into idempotency_keys (api_key_id, key, request_hash, status, location, etag, body, created_at)
            values (@owner, @key, @RequestHash, @Status, @Location, @ETag, @Body, @now)
            on conflict (api_key_id, key) do update set request_hash = excluded.request_hash, status = excluded.status,
                location = excluded.location, etag = excluded.etag, body = excluded.body, created_at = excluded.created_at
            """;
        connection.Execute(sql, new { owner, key, response.RequestHash, response.Status, response.Location, response.ETag, response.Body, now = Timestamps.Now() });
    }

    public void Complete(string[] changed, Action? committed = null) => (changes, this.committed) = (changed, committed);

    public async ValueTask DisposeAsync()
    {
        if (disposed) return;
        disposed = true;
        try
        {
            if (changes is null) await RollbackAsync();
            else
            {
                store.Writer.AppendChanges(connection, feed);
                await store.CommitAsync(transaction, changes, committed);
            }
        }
        finally
        {
            await transaction.DisposeAsync();
            await connection.DisposeAsync();
            store.EndWrite();
        }
    }

    /// <summary>
    /// Rolls back a write that did not complete. When its connection broke (the server restarting, the backend ended), the
    /// server has already ended the transaction and Npgsql refuses the rollback: the error that broke the connection, on
    /// its way to the client as a 503, must not be replaced by the rollback's (a 500).
    /// </summary>
    private async Task RollbackAsync()
    {
        try
        {
            await transaction.RollbackAsync();
        }
        catch (Exception e) when (e is NpgsqlException or ObjectDisposedException or InvalidOperationException)
        {
        }
    }
}
