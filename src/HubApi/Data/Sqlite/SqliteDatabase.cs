using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>Opens SQLite connections with the pragmas every connection needs.</summary>
public sealed class SqliteDatabase
{
    /// <summary>
    /// How long a statement waits for a lock before the request is answered 503; for a write, how long it waits for its
    /// turn behind this process's other writes.
    /// </summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    /// <summary>How long a write that has its turn waits in SQLite for a write lock another process holds.</summary>
    public static readonly TimeSpan LockTimeout = TimeSpan.FromSeconds(1);

    private readonly string pragmas;

    /// <param name="connectionString">ConnectionStrings:Hub.</param>
    /// <param name="maxPageCount">
    /// Database:MaxPageCount, an operator's cap on the database's size in pages (4 KiB each by default), applied to every
    /// connection: a write that would grow the file past it is refused as a full disk (507) and changes nothing. Null or
    /// 0 for no cap beyond the disk's. SQLite never shrinks the cap below the file's current size.
    /// </param>
    public SqliteDatabase(string connectionString, long? maxPageCount = null)
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

    /// <summary>
    /// Closes this database's idle pooled connections, and the others as they are returned. Only this database's: the
    /// pools are process-wide, and clearing them all would reach into other databases the process has open.
    /// </summary>
    public void ClearPool()
    {
        using var connection = new SqliteConnection(ConnectionString);
        SqliteConnection.ClearPool(connection);
    }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        // Pooled connections keep their settings: set them once per physical connection, not on every open.
        if (!configured.TryGetValue(connection.Handle!, out _))
        {
            using (var command = connection.CreateCommand())
            {
                command.CommandText = pragmas;
                command.ExecuteNonQuery();
            }
            configured.AddOrUpdate(connection.Handle!, Configured);
        }
        // A connection comes back from the pool inside a transaction only if whoever had it could not end it; what it
        // holds was never committed, so never acknowledged: end it rather than fail every request that gets it.
        if (SQLitePCL.raw.sqlite3_get_autocommit(connection.Handle) == 0)
        {
            using var rollback = connection.CreateCommand();
            rollback.CommandText = "rollback";
            rollback.ExecuteNonQuery();
        }
        return connection;
    }

    private static readonly object Configured = new();
    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<SQLitePCL.sqlite3, object> configured = [];

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
}
