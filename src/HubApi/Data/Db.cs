using Microsoft.Data.Sqlite;

namespace HubApi.Data;

/// <summary>Opens SQLite connections with the pragmas every connection needs.</summary>
public sealed class Db
{
    /// <summary>
    /// How long a statement waits for a lock before the request is answered 503; for a write, how long it waits for its
    /// turn behind this process's other writes.
    /// </summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a write that has its turn waits in SQLite for a write lock another process holds.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(1);

    private readonly string pragmas;
    private readonly SemaphoreSlim writer = new(1, 1);

    /// <param name="connectionString">ConnectionStrings:Hub.</param>
    /// <param name="maxPageCount">
    /// Database:MaxPageCount, an operator's cap on the database's size in pages (4 KiB each by default), applied to every
    /// connection: a write that would grow the file past it is refused as a full disk (507) and changes nothing. Null or
    /// 0 for no cap beyond the disk's. SQLite never shrinks the cap below the file's current size.
    /// </param>
    public Db(string connectionString, long? maxPageCount = null)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString)
        {
            ForeignKeys = true,
            // Microsoft.Data.Sqlite retries SQLITE_BUSY until this many seconds pass (30 by default).
            DefaultTimeout = (int)BusyTimeout.TotalSeconds,
            Pooling = true,
        };
        ConnectionString = builder.ToString();
        DataSource = builder.DataSource;
        if (maxPageCount < 0) throw new InvalidOperationException("Database:MaxPageCount must be 0 (no cap) or a number of pages.");
        pragmas = $"pragma synchronous = full; pragma busy_timeout = {(int)BusyTimeout.TotalMilliseconds};" +
                  (maxPageCount > 0 ? $" pragma max_page_count = {maxPageCount};" : "");
    }

    public string ConnectionString { get; }
    public string DataSource { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = pragmas;
        command.ExecuteNonQuery();
        return connection;
    }

    /// <summary>
    /// Opens a connection and begins an immediate (write) transaction. SQLite admits one writer at a time, so this
    /// process's writes queue here first, asynchronously and in arrival order: a waiting write holds no thread, and a
    /// write lock held by another process blocks one thread rather than one per write, which would starve the thread
    /// pool and stall reads. A write waits at most <see cref="BusyTimeout"/> for its turn, then at most
    /// <see cref="LockTimeout"/> for another process's lock; past either it fails with SQLITE_BUSY, answered 503 +
    /// Retry-After: within 1 s behind a foreign lock, 3 s at the very worst, never a hang.
    /// </summary>
    public async Task<WriteTransaction> BeginWriteAsync(CancellationToken cancellation)
    {
        if (!await writer.WaitAsync(BusyTimeout, cancellation))
            throw new SqliteException("database is locked: the writes queued ahead of this one did not finish in time", 5);
        SqliteConnection? connection = null;
        try
        {
            connection = Open();
            connection.DefaultTimeout = (int)LockTimeout.TotalSeconds;
            using (var command = connection.CreateCommand())
            {
                command.CommandText = $"pragma busy_timeout = {(int)LockTimeout.TotalMilliseconds}";
                command.ExecuteNonQuery();
            }
            return new WriteTransaction(connection, connection.BeginTransaction(deferred: false), writer);
        }
        catch
        {
            connection?.Dispose();
            writer.Release();
            throw;
        }
    }

    /// <summary>
    /// Begins a read transaction on the connection, ended when the result is disposed: every statement in between
    /// reads one snapshot of the database, so a record's row, links and citations always come from the same version,
    /// however many statements read them and whatever commits meanwhile. Dispose it before the connection.
    /// </summary>
    public static IDisposable BeginRead(SqliteConnection connection)
    {
        using (var begin = connection.CreateCommand())
        {
            begin.CommandText = "begin";
            begin.ExecuteNonQuery();
        }
        return new ReadTransaction(connection);
    }

    private sealed class ReadTransaction(SqliteConnection connection) : IDisposable
    {
        public void Dispose()
        {
            // An error may have ended the transaction already; never let ending it hide that error.
            if (connection.State != System.Data.ConnectionState.Open || SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) != 0) return;
            using var end = connection.CreateCommand();
            end.CommandText = "commit"; // it wrote nothing: commit and rollback are the same
            end.ExecuteNonQuery();
        }
    }

    /// <summary>The database's time stamp format: ISO 8601 UTC with milliseconds, sortable as text.</summary>
    public static string Now() => Timestamp(DateTime.UtcNow);

    public static string Timestamp(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}

/// <summary>A write transaction with its connection and its turn: disposing rolls back what was not committed and lets the next write in.</summary>
public sealed class WriteTransaction(SqliteConnection connection, SqliteTransaction transaction, SemaphoreSlim turn) : IDisposable
{
    private int disposed;

    public SqliteConnection Connection => connection;
    public SqliteTransaction Transaction => transaction;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        try
        {
            transaction.Dispose();
            connection.Dispose();
        }
        finally
        {
            turn.Release();
        }
    }
}
