using System.Data.Common;
using Dapper;

namespace HubApi.Data;

/// <summary>
/// Applies an engine's migrations (db/&lt;engine&gt;/NNNN_name.sql) in order, each in its own transaction, recording each
/// in schema_migrations so that nothing is applied twice, and refusing a database migrated by a newer build.
/// </summary>
/// <param name="folder">The engine's migrations folder.</param>
/// <param name="textType">The engine's type for the table's text columns (PostgreSQL compares them as "C").</param>
public sealed class Migrations(string folder, string textType = "text")
{
    public IReadOnlyList<string> Known() =>
        [.. Directory.GetFiles(folder, "*.sql").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal)];

    /// <summary>Applies the migrations not yet applied; returns how many.</summary>
    public int Migrate(DbConnection connection)
    {
        connection.Execute($"create table if not exists schema_migrations (version {textType} primary key, applied_at {textType} not null)");
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
            connection.Execute(File.ReadAllText(Path.Combine(folder, version + ".sql")), transaction: tx);
            connection.Execute("insert into schema_migrations (version, applied_at) values (@version, @at)",
                new { version, at = Timestamps.Now() }, tx);
            tx.Commit();
            count++;
        }
        return count;
    }

    public bool IsCurrent(DbConnection connection)
    {
        var applied = connection.Query<string>("select version from schema_migrations").ToHashSet();
        return Known().All(applied.Contains);
    }
}
