using System.Text.Json;
using System.Text.Json.Nodes;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>What every engine's writer does alike with a record: its column values, its search text, its referrers.</summary>
public static class RecordRows
{
    /// <summary>A JSON value as the column stores it: booleans as 0/1, integers as 64-bit, other numbers as double.</summary>
    public static object? Scalar(JsonNode? node, FieldType type)
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

    /// <summary>
    /// The name and the search body (text fields and cited quotes) of the record as written, or null when both are
    /// what the record had <paramref name="before"/>: its search entry need not be written again.
    /// </summary>
    public static (string Name, string Body)? SearchText(Resource resource, JsonObject record, IReadOnlyList<Citation> citations, Row? before)
    {
        var name = record["name"]!.GetValue<string>();
        var body = SearchBody(resource, field => record[field.Name]?.GetValue<string>(), citations);
        if (before is not null && name == (string)before.Values[resource.ColumnIndex("name")]! &&
            body == SearchBody(resource, field => before.Values[resource.ColumnIndex(field.Name)] as string, before.Citations))
        {
            return null;
        }
        return (name, body);
    }

    private static string SearchBody(Resource resource, Func<Field, string?> text, IEnumerable<Citation> citations) =>
        string.Join("\n", resource.Fields.Where(f => f.Type == FieldType.Text).Select(text).Concat(citations.Select(c => c.Quote)).OfType<string>());

    /// <summary>
    /// The records that still point at a record: every relation that targets its resource, and, for sources, the
    /// citations of other records; at most <paramref name="sample"/> ids each. <paramref name="ids"/> runs a query with
    /// the parameters @id, @resource and @limit.
    /// </summary>
    public static List<Reference> References(ResourceCatalog catalog, Resource target, string id,
        Func<string, object, IEnumerable<string>> ids, int sample = 10)
    {
        var found = new List<Reference>();
        void Add(string resource, string via, string sql)
        {
            var some = ids(sql, new { id, resource, limit = sample + 1 }).ToList();
            if (some.Count > 0) found.Add(new Reference(resource, via, [.. some.Take(sample)], some.Count > sample));
        }
        foreach (var (owner, relation) in target.ReferencedBy)
        {
            Add(owner.Name, relation.Name, relation.Many
                ? $"select {relation.OwnColumn} from {relation.JoinTable} where {relation.OtherColumn} = @id order by 1 limit @limit"
                : $"select id from {owner.Table} where {relation.Column} = @id order by 1 limit @limit");
        }
        if (target == catalog.Sources)
        {
            foreach (var resource in catalog.All)
            {
                // A source may cite itself; that citation goes with it.
                var self = resource == target ? " and record_id <> @id" : "";
                Add(resource.Name, "citations",
                    $"select distinct record_id from citations where source_id = @id and resource = @resource{self} order by 1 limit @limit");
            }
        }
        return found;
    }
}

/// <summary>The statements that write a resource's own row, in SQL every engine speaks, built once from its description.</summary>
public class RowStatements
{
    public RowStatements(Resource resource)
    {
        Columns = [.. resource.Columns.Where(c => c.Name is not ("id" or "version" or "createdAt" or "updatedAt"))];
        Insert = $"insert into {resource.Table} (id, {string.Join(", ", Columns.Select(c => c.Sql))}, version, created_at, updated_at) " +
                 $"values (@id, {string.Join(", ", Columns.Select(c => "@" + c.Name))}, 1, @now, @now)";
        Update = $"update {resource.Table} set {string.Join(", ", Columns.Select(c => $"{c.Sql} = @{c.Name}"))}, " +
                 "version = version + 1, updated_at = @now where id = @id returning version";
        Delete = $"delete from {resource.Table} where id = @id returning version";
    }

    /// <summary>The writable columns besides id, in parameter order.</summary>
    public Column[] Columns { get; }
    public string Insert { get; }
    public string Update { get; }
    public string Delete { get; }
}
