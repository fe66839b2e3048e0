using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using HubApi.Resources;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// Writes records of any resource from their JSON form: the row, its to-many links, its citations, its search
/// entry, its change-feed row naming who wrote it, and the version as written (read back through <paramref name="reader"/>),
/// all inside the caller's transaction, with statements compiled once per connection (<see cref="Prepared"/>).
/// </summary>
public sealed class RecordWriter(ResourceCatalog catalog, FullText fullText, SqliteReader reader)
{
    public void Insert(SqliteConnection connection, SqliteTransaction tx, Resource resource, JsonObject record, string now, string by)
    {
        var sql = statements[resource];
        var id = record["id"]!.GetValue<string>();
        connection.ExecutePrepared(tx, sql.Insert, [("id", id), .. Values(sql, record), ("now", now)]);
        WriteDetails(connection, tx, resource, id, record, null);
        AppendChange(connection, tx, resource, id, "created", 1, now, by);
    }

    /// <summary>Replaces every writable column of an existing record, as it was <paramref name="before"/>; returns its new version.</summary>
    public long Update(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, JsonObject record, Row before, string now, string by)
    {
        var sql = statements[resource];
        var version = (long)connection.ScalarPrepared(tx, sql.Update, [.. Values(sql, record), ("id", id), ("now", now)])!;
        WriteDetails(connection, tx, resource, id, record, before);
        AppendChange(connection, tx, resource, id, "updated", version, now, by);
        return version;
    }

    /// <summary>Removes a record with its links, citations and search entry; the feed records a tombstone with the next version.</summary>
    public void Delete(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, string now, string by)
    {
        var sql = statements[resource];
        foreach (var link in sql.Links) connection.ExecutePrepared(tx, link.Delete, ("id", id));
        connection.ExecutePrepared(tx, DeleteCitations, ("resource", resource.Name), ("id", id));
        fullText.Remove(connection, tx, resource, id);
        var version = (long)connection.ScalarPrepared(tx, sql.Delete, ("id", id))!;
        AppendChange(connection, tx, resource, id, "deleted", version + 1, now, by);
    }

    /// <summary>Whether the id was ever used for this resource, by a live record or a deleted one: ids are never reused.</summary>
    public static bool WasUsed(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id) =>
        (long)connection.ScalarPrepared(tx, "select count(*) from (select 1 from changes where resource = @resource and record_id = @id limit 1)",
            ("resource", resource.Name), ("id", id))! > 0;

    /// <summary>The records that still point at a record (<see cref="RecordRows.References"/>).</summary>
    public List<Reference> References(SqliteConnection connection, SqliteTransaction tx, Resource target, string id) =>
        RecordRows.References(catalog, target, id, (sql, parameters) => connection.Query<string>(sql, parameters, tx));

    /// <summary>
    /// Links, citations and the search entry of one record, written afresh, but for those the record had already
    /// (<paramref name="before"/>, null for a new record): a write changes only the pages it must.
    /// </summary>
    private void WriteDetails(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, JsonObject record, Row? before)
    {
        // Each list is written by one statement over its JSON, whatever its length.
        foreach (var link in statements[resource].Links)
        {
            var targets = record[link.Relation.Name] as JsonArray ?? [];
            if (before is not null && before.Many[link.Relation.Name].ToHashSet(StringComparer.Ordinal).SetEquals(targets.Select(t => t!.GetValue<string>())))
                continue;
            connection.ExecutePrepared(tx, link.Delete, ("id", id));
            if (targets.Count > 0) connection.ExecutePrepared(tx, link.Insert, ("id", id), ("targets", targets.ToJsonString()));
        }

        var citations = (record["citations"] as JsonArray ?? []).Select(c => new Citation(c!["source"]!.GetValue<string>(), c["quote"]!.GetValue<string>())).ToList();
        if (before is null || !before.Citations.SequenceEqual(citations))
        {
            connection.ExecutePrepared(tx, DeleteCitations, ("resource", resource.Name), ("id", id));
            if (citations.Count > 0)
                connection.ExecutePrepared(tx, InsertCitations, ("resource", resource.Name), ("id", id), ("citations", record["citations"]!.ToJsonString()));
        }

        if (RecordRows.SearchText(resource, record, citations, before) is var (name, body)) fullText.Index(connection, tx, resource, id, name, body);
    }

    /// <summary>The feed row, and for a created or updated record its version as this transaction now reads it.</summary>
    private void AppendChange(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, string op, long version, string at, string by)
    {
        connection.ExecutePrepared(tx, "insert into changes (resource, record_id, op, version, at, by_key) values (@resource, @id, @op, @version, @at, @by)",
            ("resource", resource.Name), ("id", id), ("op", op), ("version", version), ("at", at), ("by", by));
        if (op == "deleted") return;
        var snapshot = RecordSnapshot.Write(resource, reader.Get(connection, resource, id, tx)!);
        connection.ExecutePrepared(tx, "insert into versions (seq, record) values (last_insert_rowid(), @record)", ("record", snapshot));
    }

    private const string DeleteCitations = "delete from citations where resource = @resource and record_id = @id";

    private const string InsertCitations = """
        insert into citations (resource, record_id, position, source_id, quote)
        select @resource, @id, key, json_extract(value, '$.source'), json_extract(value, '$.quote') from json_each(@citations)
        """;

    /// <summary>The SQL of a resource's writes, built once from its definition.</summary>
    private sealed class WriteSql : RowStatements
    {
        public WriteSql(Resource resource) : base(resource)
        {
            Links = [.. resource.ToMany.Select(r => new LinkSql(r,
                $"delete from {r.JoinTable} where {r.OwnColumn} = @id",
                $"insert into {r.JoinTable} ({r.OwnColumn}, {r.OtherColumn}) select distinct @id, value from json_each(@targets)"))];
        }

        public LinkSql[] Links { get; }
    }

    private sealed record LinkSql(Relation Relation, string Delete, string Insert);

    private readonly Dictionary<Resource, WriteSql> statements = catalog.All.ToDictionary(r => r, r => new WriteSql(r));

    private static IEnumerable<(string, object?)> Values(WriteSql sql, JsonObject record) =>
        sql.Columns.Select(c => (c.Name, RecordRows.Scalar(record[c.Name], c.Type)));
}
