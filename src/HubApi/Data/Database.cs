using System.Text.Json.Nodes;
using Dapper;
using HubApi.Http;
using Microsoft.Data.Sqlite;

namespace HubApi.Data;

/// <summary>Brings a database to the current schema and, when it holds no records, loads the dataset.</summary>
public static class Database
{
    public static string SeedFile => Path.Combine(AppContext.BaseDirectory, "db", "seed", "dataset.json");

    public static void Initialize(Db db, ILogger logger)
    {
        if (Path.GetDirectoryName(Path.GetFullPath(db.DataSource)) is { } folder && db.DataSource != ":memory:")
            Directory.CreateDirectory(folder);

        using var connection = db.Open();
        // WAL is a property of the database file, set once: readers never block the writer.
        connection.Execute("pragma journal_mode = wal");
        var applied = Migrator.Migrate(connection);
        if (applied > 0) logger.LogInformation("Applied {Count} migration(s) to {Database}", applied, db.DataSource);
        if (IsEmpty(connection))
        {
            var count = Seed(connection, SeedFile);
            logger.LogInformation("Loaded {Count} records from the seed dataset", count);
        }
    }

    public static void Close(Db db)
    {
        db.CloseWriter();
        using (var connection = db.Open()) connection.Execute("pragma wal_checkpoint(truncate)");
        db.ClearPool();
    }

    public static bool IsEmpty(SqliteConnection connection) =>
        ResourceCatalog.All.All(r => connection.ExecuteScalar<long>($"select count(*) from (select 1 from {r.Table} limit 1)") == 0);

    /// <summary>Loads the dataset in one transaction, through the same write path as the API.</summary>
    public static int Seed(SqliteConnection connection, string file)
    {
        var dataset = JsonNode.Parse(File.ReadAllText(file))!.AsObject();
        var now = Db.Now();
        var count = 0;
        using var tx = connection.BeginTransaction();
        foreach (var resource in ResourceCatalog.All)
        {
            foreach (var record in dataset[resource.Name]?.AsArray() ?? [])
            {
                var fields = record!.AsObject();
                // A source's text lives in its own file beside the dataset, as published.
                if (fields["file"] is JsonValue textFile)
                    fields["text"] = File.ReadAllText(Path.Combine(Path.GetDirectoryName(file)!, textFile.GetValue<string>()));
                RecordStore.Insert(connection, tx, resource, fields, now);
                count++;
            }
        }
        tx.Commit();
        return count;
    }
}
