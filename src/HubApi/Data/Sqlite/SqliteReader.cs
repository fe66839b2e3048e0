using System.Data;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// Turns a validated <see cref="ListQuery"/> into SQL and rows. The only identifiers that reach SQL come from
/// the resource definitions; every value is a bound parameter.
/// </summary>
public sealed class SqliteReader(ResourceCatalog catalog)
{
    /// <summary>Reads a page; returns null when the cursor is not one this query issued.</summary>
    public RowPage? List(SqliteConnection connection, ListQuery query, CursorCodec cursors)
    {
        var plan = QueryPlan.For(query);
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

    /// <summary>Every matching row in order, read a batch at a time so memory stays flat (exports).</summary>
    public IEnumerable<Row> Stream(Func<SqliteConnection> open, ListQuery query, int batch = 500)
    {
        var plan = QueryPlan.For(query);
        object?[]? after = null;
        while (true)
        {
            List<Row> rows;
            using (var connection = open())
            using (SqliteDatabase.BeginRead(connection))
            {
                rows = Select(connection, plan, after, batch);
                LoadDetails(connection, query.Resource, rows);
            }
            foreach (var row in rows) yield return row;
            if (rows.Count < batch) yield break;
            after = rows[^1].SortValues;
        }
    }

    /// <summary>One record; pass the transaction when reading inside a write, so the read sees what the write sees.</summary>
    public Row? Get(SqliteConnection connection, Resource resource, string id, SqliteTransaction? tx = null)
    {
        var rows = ByIds(connection, resource, [id], tx);
        return rows.Count == 0 ? null : rows[0];
    }

    /// <summary>Whether a record with this id exists; given a write's transaction, as that write sees the database.</summary>
    public bool Exists(SqliteConnection connection, Resource resource, string id, SqliteTransaction? tx = null)
    {
        using var reader = Query(connection, tx, existsSql[resource], ("id", id));
        return reader.Read() && reader.GetInt64(0) > 0;
    }

    private readonly Dictionary<Resource, string> existsSql =
        catalog.All.ToDictionary(r => r, r => $"select count(*) from {r.Table} where id = @id");

    /// <summary>Counts per value of each facet, under the query's filters and search.</summary>
    public Dictionary<string, List<FacetCount>> Facets(SqliteConnection connection, ListQuery query, IEnumerable<string> by)
    {
        var plan = QueryPlan.For(query);
        var resource = query.Resource;
        var matching = $"from {resource.Table} t {plan.Join} where {plan.Where}";
        var result = new Dictionary<string, List<FacetCount>>(StringComparer.Ordinal);
        foreach (var name in by)
        {
            var relation = resource.Relations.FirstOrDefault(r => r.FilterName == name);
            var field = resource.Fields.FirstOrDefault(f => f.Name == name);
            var sql = relation is { Many: true }
                ? $"select j.{relation.OtherColumn}, count(*) from {relation.JoinTable} j where j.{relation.OwnColumn} in (select t.id {matching}) group by 1 order by 2 desc, 1 limit {ListQuery.MaxFacetValues}"
                : $"select t.{relation?.Column ?? field!.Column}, count(*) {matching} group by 1 order by 2 desc, 1 limit {ListQuery.MaxFacetValues}";
            result[name] = [.. connection.Query<(object?, long)>(sql, plan.Parameters).Select(p => new FacetCount(
                field?.Type == FieldType.Boolean && p.Item1 is long b ? (b != 0 ? "true" : "false") : p.Item1 is null ? null : Row.Format(p.Item1),
                p.Item2))];
        }
        return result;
    }

    private static List<Row> Select(SqliteConnection connection, QueryPlan plan, object?[]? after, int limit)
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

    /// <summary>
    /// Runs a query of <see cref="Exists"/>, <see cref="ByIds"/> or <see cref="LoadDetails"/>: inside a write (given its
    /// transaction, on the writer connection) as a statement compiled once (<see cref="Prepared"/>), else through Dapper.
    /// </summary>
    private static IDataReader Query(SqliteConnection connection, SqliteTransaction? tx, string sql, params (string Name, object? Value)[] parameters)
    {
        if (tx is not null) return connection.QueryPrepared(tx, sql, parameters);
        var bound = new DynamicParameters();
        foreach (var (name, value) in parameters) bound.Add(name, value);
        return connection.ExecuteReader(sql, bound);
    }

    private static List<Row> ByIds(SqliteConnection connection, Resource resource, IReadOnlyCollection<string> ids, SqliteTransaction? tx = null)
    {
        if (ids.Count == 0) return [];
        var rows = Read(Query(connection, tx, $"select {resource.SelectList} from {resource.Table} t where t.id {In(ids)} order by t.id", ("ids", IdList(ids))),
            resource, 0);
        LoadDetails(connection, resource, rows, tx);
        return rows;
    }

    /// <summary>
    /// Matches the ids bound as <see cref="IdList"/>: one id as itself, several as one JSON array. Dapper would expand
    /// "in @ids" into a parameter per id, and Microsoft.Data.Sqlite binds each one by name with a search over all of
    /// them: n ids cost n² lookups, 3.1 ms per query for an export's batch of 500 ids against 0.6 ms as JSON. A single
    /// id (every record GET) compares directly, which json_each would slow by a tenth.
    /// </summary>
    private static string In(IReadOnlyCollection<string> ids) => ids.Count == 1 ? "= @ids" : "in (select value from json_each(@ids))";

    private static string IdList(IReadOnlyCollection<string> ids) => ids.Count == 1 ? ids.First() : JsonSerializer.Serialize(ids);

    /// <summary>Fills each row's to-many ids and citations with one query each.</summary>
    private static void LoadDetails(SqliteConnection connection, Resource resource, List<Row> rows, SqliteTransaction? tx = null)
    {
        if (rows.Count == 0) return;
        var byId = rows.ToDictionary(r => r.Id, StringComparer.Ordinal);
        var ids = IdList(byId.Keys);
        var inIds = In(byId.Keys);
        foreach (var relation in resource.ToMany)
        {
            foreach (var row in rows) row.Many[relation.Name] = [];
            var sql = $"select {relation.OwnColumn}, {relation.OtherColumn} from {relation.JoinTable} where {relation.OwnColumn} {inIds} order by 1, 2";
            using var links = Query(connection, tx, sql, ("ids", ids));
            while (links.Read()) byId[links.GetString(0)].Many[relation.Name].Add(links.GetString(1));
        }
        var citations = $"""
            select record_id, source_id, quote from citations
            where resource = @resource and record_id {inIds} order by record_id, position
            """;
        using var cited = Query(connection, tx, citations, ("resource", resource.Name), ("ids", ids));
        while (cited.Read()) byId[cited.GetString(0)].Citations.Add(new Citation(cited.GetString(1), cited.GetString(2)));
    }

    private static Dictionary<Relation, Dictionary<string, Row>> Embed(SqliteConnection connection, ListQuery query, List<Row> rows)
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
