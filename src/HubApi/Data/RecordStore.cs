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
        connection.Execute("delete from search where resource = @resource and record_id = @id", new { resource = resource.Name, id }, tx);
        connection.Execute("insert into search (resource, record_id, name, body) values (@resource, @id, @name, @body)",
            new { resource = resource.Name, id, name = record["name"]!.GetValue<string>(), body }, tx);
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
