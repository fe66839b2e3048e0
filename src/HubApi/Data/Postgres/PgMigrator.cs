using Dapper;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Applies db/postgres/NNNN_name.sql in order, each in its own transaction and recorded in schema_migrations, under a
/// session advisory lock: replicas that start together take turns, and the first applies what the others then find done.
/// </summary>
public static class PgMigrator
{
    /// <summary>The advisory lock (class, key) held while migrating and seeding.</summary>
    private const int Lock = 0x48554202;

    public static string Folder => Path.Combine(AppContext.BaseDirectory, "db", "postgres");

    public static IReadOnlyList<string> Known() =>
        [.. Directory.GetFiles(Folder, "*.sql").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

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

    /// <summary>Applies the migrations not yet applied; returns how many. Call under <see cref="Locked"/>.</summary>
    public static int Migrate(NpgsqlConnection connection)
    {
        connection.Execute("""
            create table if not exists schema_migrations (
                version    text collate "C" primary key,
                applied_at text collate "C" not null
            )
            """);
        var known = Known();
        var applied = connection.Query<string>("select version from schema_migrations order by version").ToList();
        var unknown = applied.Except(known).ToList();
        if (unknown.Count > 0)
        {
            throw new InvalidOperationException(
                $"The database carries migration(s) this build does not know: {string.Join(", ", unknown)}. " +
                "It was migrated by a newer HubApi; run that version or restore a matching backup.");
        }

        var count = 0;
        foreach (var version in known.Except(applied))
        {
            using var tx = connection.BeginTransaction();
            connection.Execute(File.ReadAllText(Path.Combine(Folder, version + ".sql")), transaction: tx);
            connection.Execute("insert into schema_migrations (version, applied_at) values (@version, @at)",
                new { version, at = Timestamps.Now() }, tx);
            tx.Commit();
            count++;
        }
        return count;
    }

    public static bool IsCurrent(NpgsqlConnection connection)
    {
        var applied = connection.Query<string>("select version from schema_migrations").ToHashSet();
        return Known().All(applied.Contains);
    }
}
