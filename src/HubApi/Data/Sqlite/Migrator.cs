using Dapper;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// Applies db/migrations/NNNN_name.sql in order, each in its own transaction, recording each in
/// schema_migrations so that nothing is applied twice.
/// </summary>
public static class Migrator
{
    public static string Folder => Path.Combine(AppContext.BaseDirectory, "db", "migrations");

    public static IReadOnlyList<string> Known() =>
        [.. Directory.GetFiles(Folder, "*.sql").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

    public static int Migrate(SqliteConnection connection)
    {
        connection.Execute("""
            create table if not exists schema_migrations (
                version    text primary key,
                applied_at text not null
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

    public static bool IsCurrent(SqliteConnection connection)
    {
        var applied = connection.Query<string>("select version from schema_migrations").ToHashSet();
        return Known().All(applied.Contains);
    }
}
