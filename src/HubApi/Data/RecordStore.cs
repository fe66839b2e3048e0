using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using HubApi.Http;
using Microsoft.Data.Sqlite;

namespace HubApi.Data;

/// <summary>
/// Writes records of any resource from their JSON form: the row, its to-many links, its citations, its search
/// entry and its change-feed row, all inside the caller's transaction.
/// </summary>
public static class RecordStore
{
    public static void Insert(SqliteConnection connection, SqliteTransaction tx, Resource resource, JsonObject record, string now)
    {
        var columns = resource.Columns.Where(c => c.Name is not ("version" or "createdAt" or "updatedAt")).ToList();
        var parameters = new DynamicParameters();
        foreach (var c in columns) parameters.Add(c.Name, Scalar(record[c.Name], c.Type));
        parameters.Add("now", now);
        var sql = $"insert into {resource.Table} ({string.Join(", ", columns.Select(c => c.Sql))}, version, created_at, updated_at) " +
                  $"values ({string.Join(", ", columns.Select(c => "@" + c.Name))}, 1, @now, @now)";
        connection.Execute(sql, parameters, tx);
        var id = (string)parameters.Get<object>("id");
        WriteDetails(connection, tx, resource, id, record);
        AppendChange(connection, tx, resource, id, "created", 1, now);
    }

    /// <summary>Replaces every writable column of an existing record; returns its new version.</summary>
    public static long Update(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, JsonObject record, string now)
    {
        var columns = resource.Columns.Where(c => c.Name is not ("id" or "version" or "createdAt" or "updatedAt")).ToList();
        var parameters = new DynamicParameters();
        foreach (var c in columns) parameters.Add(c.Name, Scalar(record[c.Name], c.Type));
        parameters.Add("id", id);
        parameters.Add("now", now);
        var sql = $"update {resource.Table} set {string.Join(", ", columns.Select(c => $"{c.Sql} = @{c.Name}"))}, " +
                  "version = version + 1, updated_at = @now where id = @id returning version";
        var version = connection.ExecuteScalar<long>(sql, parameters, tx);
        WriteDetails(connection, tx, resource, id, record);
        AppendChange(connection, tx, resource, id, "updated", version, now);
        return version;
    }

    /// <summary>Removes a record with its links, citations and search entry; the feed records a tombstone with the next version.</summary>
    public static void Delete(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, string now)
    {
        foreach (var relation in resource.ToMany)
            connection.Execute($"delete from {relation.JoinTable} where {relation.OwnColumn} = @id", new { id }, tx);
        connection.Execute("delete from citations where resource = @resource and record_id = @id", new { resource = resource.Name, id }, tx);
        FullText.Remove(connection, tx, resource, id);
        var version = connection.ExecuteScalar<long>($"delete from {resource.Table} where id = @id returning version", new { id }, tx);
        AppendChange(connection, tx, resource, id, "deleted", version + 1, now);
    }

    /// <summary>Whether the id was ever used for this resource, by a live record or a deleted one: ids are never reused.</summary>
    public static bool WasUsed(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id) =>
        connection.ExecuteScalar<long>("select count(*) from (select 1 from changes where resource = @resource and record_id = @id limit 1)",
            new { resource = resource.Name, id }, tx) > 0;

    /// <summary>
    /// The records that still point at a record, found from the catalog: every relation of every resource that
    /// targets it, and, for sources, the citations of other records. At most <paramref name="sample"/> ids each.
    /// </summary>
    public static List<Reference> References(SqliteConnection connection, SqliteTransaction tx, Resource target, string id, int sample = 10)
    {
        var found = new List<Reference>();
        void Add(string resource, string via, string sql)
        {
            var ids = connection.Query<string>(sql, new { id, resource, limit = sample + 1 }, tx).ToList();
            if (ids.Count > 0) found.Add(new Reference(resource, via, [.. ids.Take(sample)], ids.Count > sample));
        }
        foreach (var resource in ResourceCatalog.All)
        {
            foreach (var relation in resource.Relations.Where(r => r.Target == target.Name))
            {
                Add(resource.Name, relation.Name, relation.Many
                    ? $"select {relation.OwnColumn} from {relation.JoinTable} where {relation.OtherColumn} = @id order by 1 limit @limit"
                    : $"select id from {resource.Table} where {relation.Column} = @id order by 1 limit @limit");
            }
        }
        if (target.Name == CitedResource)
        {
            foreach (var resource in ResourceCatalog.All)
            {
                // A source may cite itself; that citation goes with it.
                var self = resource.Name == target.Name ? " and record_id <> @id" : "";
                Add(resource.Name, "citations",
                    $"select distinct record_id from citations where source_id = @id and resource = @resource{self} order by 1 limit @limit");
            }
        }
        return found;
    }

    /// <summary>The resource whose records citations point at.</summary>
    public const string CitedResource = "sources";

    /// <summary>Links, citations and the search entry of one record, written afresh.</summary>
    public static void WriteDetails(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, JsonObject record)
    {
        foreach (var relation in resource.ToMany)
        {
            connection.Execute($"delete from {relation.JoinTable} where {relation.OwnColumn} = @id", new { id }, tx);
            var targets = (record[relation.Name] as JsonArray ?? []).Select(n => n!.GetValue<string>()).Distinct();
            connection.Execute($"insert into {relation.JoinTable} ({relation.OwnColumn}, {relation.OtherColumn}) values (@id, @target)",
                targets.Select(target => new { id, target }), tx);
        }

        connection.Execute("delete from citations where resource = @resource and record_id = @id", new { resource = resource.Name, id }, tx);
        var citations = (record["citations"] as JsonArray ?? []).Select((c, position) => new
        {
            resource = resource.Name,
            id,
            position,
            source = c!["source"]!.GetValue<string>(),
            quote = c["quote"]!.GetValue<string>(),
        }).ToList();
        connection.Execute("""
            insert into citations (resource, record_id, position, source_id, quote)
            values (@resource, @id, @position, @source, @quote)
            """, citations, tx);

        var body = string.Join("\n", resource.Fields.Where(f => f.Type == FieldType.Text)
            .Select(f => record[f.Name]?.GetValue<string>()).Concat(citations.Select(c => c.quote)).OfType<string>());
        FullText.Index(connection, tx, resource, id, record["name"]!.GetValue<string>(), body);
    }

    public static void AppendChange(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, string op, long version, string at) =>
        connection.Execute("insert into changes (resource, record_id, op, version, at) values (@resource, @id, @op, @version, @at)",
            new { resource = resource.Name, id, op, version, at }, tx);

    private static object? Scalar(JsonNode? node, FieldType type)
    {
        if (node is null) return null;
        var value = node.AsValue();
        return value.GetValueKind() switch
        {
            JsonValueKind.True => 1L,
            JsonValueKind.False => 0L,
            JsonValueKind.Number when type == FieldType.Integer => value.GetValue<long>(),
            JsonValueKind.Number => value.GetValue<double>(),
            _ => value.GetValue<string>(),
        };
    }
}

/// <summary>Records of one resource that point at another record through one of their properties.</summary>
public sealed record Reference(string Resource, string Via, IReadOnlyList<string> Ids, bool More);
