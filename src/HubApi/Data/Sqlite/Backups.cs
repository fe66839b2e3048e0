using Dapper;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>Online backups and restores of the SQLite database.</summary>
public static class Backups
{
    /// <summary>
    /// A consistent copy taken while the service runs: VACUUM INTO reads one snapshot (WAL readers never block the
    /// writer) and writes a compact file.
    /// </summary>
    public static void Backup(SqliteDatabase db, string file)
    {
        var target = Path.GetFullPath(file);
        if (File.Exists(target)) throw new InvalidOperationException($"{target} exists; backups never overwrite a file.");
        using var connection = db.Open();
        connection.Execute("vacuum into @target", new { target });
    }

    /// <summary>
    /// Replaces the database's content with a backup's, page by page through SQLite's backup API, after checking the
    /// backup is sound and from a schema this build knows. Run it with the service stopped.
    /// </summary>
    public static void Restore(SqliteDatabase db, string file)
    {
        var source = Path.GetFullPath(file);
        if (!File.Exists(source)) throw new InvalidOperationException($"{source} does not exist.");
        using var backup = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = source, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        backup.Open();
        var check = backup.ExecuteScalar<string>("pragma integrity_check");
        if (check != "ok") throw new InvalidOperationException($"{source} fails integrity_check: {check}");
        var unknown = backup.Query<string>("select version from schema_migrations").Except(SqliteStore.Migrations.Known()).ToList();
        if (unknown.Count > 0) throw new InvalidOperationException($"{source} carries migrations this build does not know: {string.Join(", ", unknown)}");

        if (Path.GetDirectoryName(Path.GetFullPath(db.DataSource)) is { } folder) Directory.CreateDirectory(folder);
        using var live = db.Open();
        backup.BackupDatabase(live);
        live.Execute("pragma journal_mode = wal");
    }
}
