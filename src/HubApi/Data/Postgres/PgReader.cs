using System.Data;
using Dapper;
using HubApi.Query;
using HubApi.Resources;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Turns a validated <see cref="ListQuery"/> into PostgreSQL SQL and rows, as <see cref="Sqlite.SqliteReader"/> does for
/// SQLite. Identifiers come from the resource definitions only; every value is a bound parameter.
/// </summary>
public sealed class PgReader(ResourceCatalog catalog)
{
    /// <summary>Reads a page; returns null when the cursor is not one this query issued.</summary>
    public RowPage? List(NpgsqlConnection connection, ListQuery query, CursorCodec cursors)
    {
        var plan = PgQueryPlan.For(query);
        object?[]? after = null;
        if (query.Cursor is not null)
        {
            after = cursors.Decode(query.Cursor, plan.Fingerprint, plan.Order.Count);
            if (after is null) return null;
        }

        var rows = Select(connection, plan, after, query.Limit + 1);
        string? next = null;
        if (rows.Count > query.Limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = cursors.Encode(plan.Fingerprint, rows[^1].SortValues);
        }
        LoadDetails(connection, query.Resource, rows);

        long? total = query.Count
            ? connection.ExecuteScalar<long>($"select count(*) from {query.Resource.Table} t {plan.Join} where {plan.Where}", plan.Parameters)
            : null;
        return new RowPage(rows, next, total, Embed(connection, query, rows));
    }

    /// <summary>Every matching row in order, a batch at a time, each batch read in a snapshot of its own (exports).</summary>
    public IEnumerable<Row> Stream(Func<NpgsqlConnection> open, ListQuery query, int batch = 500)
    {
        var plan = PgQueryPlan.For(query);
        object?[]? after = null;
        while (true)
        {
            List<Row> rows;
            using (var connection = open())
            using (Snapshot.Begin(connection))
            {
                rows = Select(connection, plan, after, batch);
                LoadDetails(connection, query.Resource, rows);
            }
            foreach (var row in rows) yield return row;
            if (rows.Count < batch) yield break;
            after = rows[^1].SortValues;
        }
    }

    /// <summary>
    /// One record. Inside a write (<paramref name="forUpdate"/>), its row is locked until the write ends, in the mode an
    /// UPDATE takes: writes that merely refer to the record (FOR KEY SHARE) go on beside it.
    /// </summary>
    public Row? Get(NpgsqlConnection connection, Resource resource, string id, bool forUpdate = false)
    {
        var rows = ByIds(connection, resource, [id], forUpdate);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Whether the record exists. Inside a write (<paramref name="keyShare"/>), a record found cannot be deleted until the write ends.</summary>
    public bool Exists(NpgsqlConnection connection, Resource resource, string id, bool keyShare = false) =>
        connection.ExecuteScalar<bool>(keyShare ? existsForKeyShare[resource] : existsSql[resource], new { id });

    private readonly Dictionary<Resource, string> existsSql =
        catalog.All.ToDictionary(r => r, r => $"select exists (select 1 from {r.Table} where id = @id)");

    private readonly Dictionary<Resource, string> existsForKeyShare =
        catalog.All.ToDictionary(r => r, r => $"select exists (select 1 from {r.Table} where id = @id for key share)");

    /// <summary>Counts per value of each facet, under the query's filters and search.</summary>
    public Dictionary<string, List<FacetCount>> Facets(NpgsqlConnection connection, ListQuery query, IEnumerable<string> by)
    {
        var plan = PgQueryPlan.For(query);
        var resource = query.Resource;
        var matching = $"from {resource.Table} t {plan.Join} where {plan.Where}";
        var result = new Dictionary<string, List<FacetCount>>(StringComparer.Ordinal);
        foreach (var name in by)
        {
            var relation = resource.Relations.FirstOrDefault(r => r.FilterName == name);
            var field = resource.Fields.FirstOrDefault(f => f.Name == name);
            // Null first among equal counts, as SQLite orders it.
            var sql = relation is { Many: true }
                ? $"select j.{relation.OtherColumn}, count(*) from {relation.JoinTable} j where j.{relation.OwnColumn} in (select t.id {matching}) group by 1 order by 2 desc, 1 nulls first limit {ListQuery.MaxFacetValues}"
                : $"select t.{relation?.Column ?? field!.Column}, count(*) {matching} group by 1 order by 2 desc, 1 nulls first limit {ListQuery.MaxFacetValues}";
            result[name] = [.. connection.Query<(object?, long)>(sql, plan.Parameters).Select(p => new FacetCount(
                field?.Type == FieldType.Boolean && p.Item1 is long b ? (b != 0 ? "true" : "false") : p.Item1 is null ? null : Row.Format(p.Item1),
                p.Item2))];
        }
        return result;
    }

    private static List<Row> Select(NpgsqlConnection connection, PgQueryPlan plan, object?[]? after, int limit)
    {
        var where = plan.Where;
        var parameters = new DynamicParameters(plan.Parameters);
        if (after is not null)
        {
            for (var i = 0; i < after.Length; i++) parameters.Add("k" + i, after[i]);
            where += " and " + plan.Keyset();
        }
        parameters.Add("limit", limit);
        var keys = string.Join(", ", plan.Order.Select((o, i) => $"{o.Sql} as k{i}"));
        var orderBy = string.Join(", ", plan.Order.Select(o => o.Sql + (o.Descending ? " desc" : "")));
        var resource = plan.Resource;
        var sql = $"select {resource.SelectList}, {keys} from {resource.Table} t {plan.Join} where {where} order by {orderBy} limit @limit";
        return Read(connection.ExecuteReader(sql, parameters), resource, plan.Order.Count);
    }

    private static List<Row> Read(IDataReader reader, Resource resource, int keyCount)
    {
        using var _ = reader;
        var rows = new List<Row>();
        var width = resource.Columns.Count;
        while (reader.Read())
        {
            var values = new object?[width];
            for (var i = 0; i < width; i++) values[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            var keys = new object?[keyCount];
            for (var i = 0; i < keyCount; i++) keys[i] = reader.GetValue(width + i);
            rows.Add(new Row(values) { SortValues = keys });
        }
        return rows;
    }

    private static List<Row> ByIds(NpgsqlConnection connection, Resource resource, IReadOnlyCollection<string> ids, bool forUpdate = false)
    {
        if (ids.Count == 0) return [];
        var sql = $"select {resource.SelectList} from {resource.Table} t where t.id = any(@ids) order by t.id{(forUpdate ? " for no key update" : "")}";
        var rows = Read(connection.ExecuteReader(sql, new { ids = ids.ToArray() }), resource, 0);
        LoadDetails(connection, resource, rows);
        return rows;
    }

    /// <summary>Fills each row's to-many ids and citations with one query each.</summary>
    private static void LoadDetails(NpgsqlConnection connection, Resource resource, List<Row> rows)
    {
        if (rows.Count == 0) return;
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var ids = byId.Keys.ToArray();
        foreach (var relation in resource.ToMany)
        {
            foreach (var row in rows) row.Many[relation.Name] = [];
            var sql = $"select {relation.OwnColumn}, {relation.OtherColumn} from {relation.JoinTable} where {relation.OwnColumn} = any(@ids) order by 1, 2";
            foreach (var (own, other) in connection.Query<(string, string)>(sql, new { ids })) byId[own].Many[relation.Name].Add(other);
        }
        const string citations = """
            select record_id, source_id, quote from citations
            where resource = @resource and record_id = any(@ids) order by record_id, position
            """;
        foreach (var (record, source, quote) in connection.Query<(string, string, string)>(citations, new { resource = resource.Name, ids }))
            byId[record].Citations.Add(new Citation(source, quote));
    }

    private static Dictionary<Relation, Dictionary<string, Row>> Embed(NpgsqlConnection connection, ListQuery query, List<Row> rows)
    {
        var included = new Dictionary<Relation, Dictionary<string, Row>>();
        foreach (var relation in query.Include)
        {
            var ids = relation.Many
                ? rows.SelectMany(r => r.Many[relation.Name]).ToHashSet(StringComparer.Ordinal)
                : rows.Select(r => r.Values[query.Resource.ColumnIndex(relation.Name)] as string).OfType<string>().ToHashSet(StringComparer.Ordinal);
            included[relation] = ByIds(connection, relation.To, ids).ToDictionary(r => r.Id, StringComparer.Ordinal);
        }
        return included;
    }
}
