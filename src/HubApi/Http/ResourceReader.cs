using System.Data;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using HubApi.Data;
using Microsoft.Data.Sqlite;

namespace HubApi.Http;

/// <summary>One record as read: its columns in <see cref="Resource.Columns"/> order, to-many ids and citations.</summary>
public sealed class Row(object?[] values)
{
    public object?[] Values { get; } = values;
    public string Id => (string)Values[0]!;
    public Dictionary<string, List<string>> Many { get; } = new(StringComparer.Ordinal);
    public List<Citation> Citations { get; } = [];
    /// <summary>The values of the page's sort expressions, for the next cursor.</summary>
    public object?[] SortValues { get; set; } = [];
}

/// <summary>A page of rows, the cursor for the next one, and the records embedded by include.</summary>
public sealed record RowPage(List<Row> Rows, string? Next, long? Total, Dictionary<Relation, Dictionary<string, Row>> Included);

/// <summary>
/// Turns a validated <see cref="ListQuery"/> into SQL and rows. The only identifiers that reach SQL come from
/// the resource definitions; every value is a bound parameter.
/// </summary>
public sealed class ResourceReader(CursorCodec cursors)
{
    /// <summary>Reads a page; returns null when the cursor is not one this query issued.</summary>
    public RowPage? List(SqliteConnection connection, ListQuery query)
    {
        var plan = Plan(query);
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
        var plan = Plan(query);
        object?[]? after = null;
        while (true)
        {
            List<Row> rows;
            using (var connection = open())
            using (Db.BeginRead(connection))
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
    public static bool Exists(SqliteConnection connection, Resource resource, string id, SqliteTransaction? tx = null)
    {
        using var reader = Query(connection, tx, ExistsSql[resource], ("id", id));
        return reader.Read() && reader.GetInt64(0) > 0;
    }

    private static readonly Dictionary<Resource, string> ExistsSql =
        ResourceCatalog.All.ToDictionary(r => r, r => $"select count(*) from {r.Table} where id = @id");

    /// <summary>Counts per value of each facet, under the query's filters and search.</summary>
    /// <summary>A facet lists at most this many values, the most frequent first.</summary>
    public const int MaxFacetValues = 100;

    public Dictionary<string, List<FacetCount>> Facets(SqliteConnection connection, ListQuery query, IEnumerable<string> by)
    {
        var plan = Plan(query);
        var resource = query.Resource;
        var matching = $"from {resource.Table} t {plan.Join} where {plan.Where}";
        var result = new Dictionary<string, List<FacetCount>>(StringComparer.Ordinal);
        foreach (var name in by)
        {
            var relation = resource.Relations.FirstOrDefault(r => r.FilterName == name);
            var field = resource.Fields.FirstOrDefault(f => f.Name == name);
            var sql = relation is { Many: true }
                ? $"select j.{relation.OtherColumn}, count(*) from {relation.JoinTable} j where j.{relation.OwnColumn} in (select t.id {matching}) group by 1 order by 2 desc, 1 limit {MaxFacetValues}"
                : $"select t.{relation?.Column ?? field!.Column}, count(*) {matching} group by 1 order by 2 desc, 1 limit {MaxFacetValues}";
            result[name] = [.. connection.Query<(object?, long)>(sql, plan.Parameters).Select(p => new FacetCount(
                field?.Type == FieldType.Boolean && p.Item1 is long b ? (b != 0 ? "true" : "false") : p.Item1 is null ? null : Format(p.Item1),
                p.Item2))];
        }
        return result;
    }

    /// <summary>What can be counted: relations (by their filter name) and text or boolean categories.</summary>
    public static IEnumerable<string> FacetNames(Resource resource) =>
        resource.Relations.Select(r => r.FilterName)
            .Concat(resource.Filters.Where(f => f.Type is FieldType.Text or FieldType.Boolean).Select(f => f.Name));

    private sealed record QueryPlan(Resource Resource, string Join, string Where, DynamicParameters Parameters, List<(string Sql, bool Descending)> Order, string Fingerprint);

    private static QueryPlan Plan(ListQuery query)
    {
        var resource = query.Resource;
        var where = new List<string>();
        var parameters = new DynamicParameters();
        var fingerprint = new StringBuilder(resource.Name);
        var n = 0;
        string Bind(object? value)
        {
            var name = "p" + n++;
            parameters.Add(name, value);
            return "@" + name;
        }
        string In(IEnumerable<string> values) => "(" + string.Join(", ", values.Select(v => Bind(v))) + ")";

        if (query.Scope is { } scope)
        {
            where.Add(Condition(scope.Relation, In([scope.Id])));
            fingerprint.Append("|scope:").Append(scope.Relation.Name).Append('=').Append(scope.Id);
        }
        foreach (var (name, value) in query.Filters)
        {
            fingerprint.Append('|').Append(name).Append('=').Append(value);
            if (resource.Relations.FirstOrDefault(r => r.FilterName == name) is { } relation)
            {
                where.Add(Condition(relation, In(ListQuery.Split(value).Distinct())));
                continue;
            }
            foreach (var field in resource.Filters)
            {
                if (field.Name == name && field.Type == FieldType.Boolean)
                    where.Add($"t.{field.Column} = {Bind(value == "true" ? 1 : 0)}");
                else if (field.Name == name)
                    where.Add($"t.{field.Column} in {In(ListQuery.Split(value).Distinct())}");
                else if (field.Range.Low == name && field.Type is FieldType.Integer or FieldType.Number)
                    where.Add($"t.{field.Column} >= {Bind(ListQueryValidator.ParseNumber(field, value))}");
                else if (field.Range.High == name && field.Type is FieldType.Integer or FieldType.Number)
                    where.Add($"t.{field.Column} <= {Bind(ListQueryValidator.ParseNumber(field, value))}");
            }
        }

        var join = "";
        if (query.Search is { } search)
        {
            join = FullText.Join(resource, Bind, search);
            fingerprint.Append("|q=").Append(search);
        }

        var order = new List<(string, bool)>();
        foreach (var key in query.Sort)
        {
            order.Add((SortExpression(resource, key.Name), key.Descending));
            fingerprint.Append("|sort:").Append(key.Descending ? "-" : "").Append(key.Name);
        }
        if (query.Search is not null && query.Sort.Count == 0) order.Add(("s.rank", false));
        if (!query.Sort.Any(k => k.Name == "id")) order.Add(("t.id", false));

        return new QueryPlan(resource, join, where.Count == 0 ? "1 = 1" : string.Join(" and ", where), parameters, order, fingerprint.ToString());
    }

    private static string Condition(Relation relation, string values) => relation.Many
        ? $"t.id in (select {relation.OwnColumn} from {relation.JoinTable} where {relation.OtherColumn} in {values})"
        : $"t.{relation.Column} in {values}";

    /// <summary>Sort expressions never yield null, so keyset comparisons stay simple; null sorts first ascending, as in SQLite.</summary>
    private static string SortExpression(Resource resource, string name)
    {
        var column = resource.Columns[resource.ColumnIndex(name)];
        return !column.Nullable ? "t." + column.Sql
            : column.Type == FieldType.Text ? $"coalesce(t.{column.Sql}, '')"
            : $"coalesce(t.{column.Sql}, -9.0e18)";
    }

    private static List<Row> Select(SqliteConnection connection, QueryPlan plan, object?[]? after, int limit)
    {
        var where = plan.Where;
        var parameters = new DynamicParameters(plan.Parameters);
        if (after is not null)
        {
            for (var i = 0; i < after.Length; i++) parameters.Add("k" + i, after[i]);
            where += " and " + Keyset(plan.Order);
        }
        parameters.Add("limit", limit);
        var keys = string.Join(", ", plan.Order.Select((o, i) => $"{o.Sql} as k{i}"));
        var orderBy = string.Join(", ", plan.Order.Select(o => o.Sql + (o.Descending ? " desc" : "")));
        var resource = plan.Resource;
        var sql = $"select {resource.SelectList}, {keys} from {resource.Table} t {plan.Join} where {where} order by {orderBy} limit @limit";
        return Read(connection.ExecuteReader(sql, parameters), resource, plan.Order.Count);
    }

    /// <summary>Rows after the cursor: a row-value comparison when all keys share a direction (index-friendly), else the expanded form.</summary>
    private static string Keyset(List<(string Sql, bool Descending)> order)
    {
        if (order.All(o => o.Descending == order[0].Descending))
        {
            var op = order[0].Descending ? "<" : ">";
            return $"({string.Join(", ", order.Select(o => o.Sql))}) {op} ({string.Join(", ", order.Select((_, i) => "@k" + i))})";
        }
        var terms = new List<string>();
        for (var i = 0; i < order.Count; i++)
        {
            var equal = order.Take(i).Select((o, j) => $"{o.Sql} = @k{j}");
            var step = $"{order[i].Sql} {(order[i].Descending ? "<" : ">")} @k{i}";
            terms.Add("(" + string.Join(" and ", equal.Append(step)) + ")");
        }
        return "(" + string.Join(" or ", terms) + ")";
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
            var target = ResourceCatalog.Get(relation.Target)!;
            included[relation] = ByIds(connection, target, ids).ToDictionary(r => r.Id, StringComparer.Ordinal);
        }
        return included;
    }

    internal static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}
