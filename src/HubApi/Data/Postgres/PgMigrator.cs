using Dapper;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// PostgreSQL's migrations (db/postgres) and the session advisory lock they are applied under: replicas that start together take turns, and the first applies what the others then find done.
/// </summary>
public static class PgMigrator
{
    /// <summary>The advisory lock (class, key) held while migrating and seeding.</summary>
    private const int Lock = 0x48554202;

    /// <summary>db/postgres, applied under <see cref="Locked"/>.</summary>
    public static readonly Migrations Migrations = new(Path.Combine(AppContext.BaseDirectory, "db", "postgres"), textType: "text collate \"C\"");

    /// <summary>Runs <paramref name="work"/> holding the migration lock (waiting for another replica's turn to end).</summary>
    public static T Locked<T>(NpgsqlConnection connection, Func<T> work)
    {
        connection.Execute("select pg_advisory_lock(@Lock, 0)", new { Lock });
        try
        {
            return work();
        }
        finally
        {
            if (connection.State == System.Data.ConnectionState.Open) connection.Execute("select pg_advisory_unlock(@Lock, 0)", new { Lock });
        }
    }
}
