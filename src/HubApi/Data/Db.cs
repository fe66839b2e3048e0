using Microsoft.Data.Sqlite;

namespace HubApi.Data;

/// <summary>Opens SQLite connections with the pragmas every connection needs.</summary>
public sealed class Db
{
    /// <summary>How long a statement waits for a lock before the request is answered 503.</summary>
    public static readonly TimeSpan BusyTimeout = TimeSpan.FromSeconds(2);

    public Db(string connectionString)
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
    }

    public string ConnectionString { get; }
    public string DataSource { get; }

    public SqliteConnection Open()
    {
        var connection = new SqliteConnection(ConnectionString);
        connection.Open();
        using var pragmas = connection.CreateCommand();
        pragmas.CommandText = $"pragma synchronous = full; pragma busy_timeout = {(int)BusyTimeout.TotalMilliseconds};";
        pragmas.ExecuteNonQuery();
        return connection;
    }

    /// <summary>The database's time stamp format: ISO 8601 UTC with milliseconds, sortable as text.</summary>
    public static string Now() => Timestamp(DateTime.UtcNow);

    public static string Timestamp(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}
