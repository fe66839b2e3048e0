using System.Data;
using System.Data.Common;
using System.Text;
using Dapper;
using HubApi.Observability;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Data;

/// <summary>
/// Turns a validated <see cref="ListQuery"/> into rows on any engine: pages with their cursors, exports in batches,
/// facets and included records. The engine reads records by id with their links and citations (<see cref="Records"/>,
/// <see cref="Details"/>) and takes snapshots; the rest is the same SQL everywhere. The only identifiers that reach SQL
/// come from the resource definitions; every value is a bound parameter.
/// </summary>
/// <param name="sql">What the engine's SQL spells its own way.</param>
/// <param name="open">Opens a pooled connection to the engine's database.</param>
public abstract class RecordReader<TConnection>(SqlDialect sql, Func<TConnection> open) where TConnection : DbConnection
{
    /// <summary>
    /// The cursors' signing key, made by the first migration and kept in the database (meta), read once; a read that
    /// fails is not remembered, so the next one tries again.
    /// </summary>
    private readonly Lazy<CursorCodec> cursors = new(() =>
    {
        using var connection = open();
        return new CursorCodec(Encoding.UTF8.GetBytes(connection.ExecuteScalar<string>("select value from meta where key = 'cursor_key'")!));
    }, LazyThreadSafetyMode.PublicationOnly);

    /// <summary>The engine's name in spans.</summary>
    private string DbSystem => sql.System;

    /// <summary>Records of a resource by id, with their links and citations, in id order.</summary>
    protected abstract List<Row> Records(TConnection connection, Resource resource, IReadOnlyCollection<string> ids);

    /// <summary>Fills each row's to-many ids and citations.</summary>
    protected abstract void Details(TConnection connection, Resource resource, List<Row> rows);

    /// <summary>Begins a read of one snapshot on the connection, ended when disposed.</summary>
    protected abstract IDisposable Snapshot(TConnection connection);

    /// <summary>Whether a record with this id exists, as a read sees the database.</summary>
    protected abstract bool Exists(TConnection connection, Resource resource, string id);

    /// <summary>A read of one snapshot on a connection of its own (<see cref="IStore.BeginRead"/>).</summary>
    public IReadSession BeginRead()
    {
        var connection = open();
        try
        {
            return new ReadSession(this, connection, Snapshot(connection));
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    /// <summary>Reads a page; returns null when the cursor is not one this query issued.</summary>
    private RowPage? List(TConnection connection, ListQuery query)
    {
        var cursors = this.cursors.Value;
        var plan = QueryPlan.For(query, sql);
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
        Details(connection, query.Resource, rows);

        long? total = query.Count
            ? connection.ExecuteScalar<long>($"select count(*) from {query.Resource.Table} t {plan.Join} where {plan.Where}", plan.Parameters)
            : null;
        return new RowPage(rows, next, total, Embed(connection, query, rows));
    }

    /// <summary>The change feed after <paramref name="after"/>, in commit order, of the named resources (all when none).</summary>
    public IReadOnlyList<ChangeRow> Changes(long after, IReadOnlyCollection<string> resources, int limit)
    {
        var only = resources.Count == 0 ? "" : " and " + sql.AnyOf("resource", "resources");
        var statement = $"select {ChangeColumns} from changes where seq > @after{only} order by seq limit @limit";
        using var span = Instruments.StartSql(sql.System, "SELECT", "changes");
        using var connection = open();
        return [.. connection.Query<ChangeRow>(statement, new { after, resources = resources.ToArray(), limit })];
    }

    private const string ChangeColumns = "seq, resource, record_id as RecordId, op, version, at, by_key as By";

    /// <summary>
    /// The writes of the named keys to the named resources (all when none), newest first, from just before
    /// <paramref name="before"/> (the seq of the last one seen; null from the newest).
    /// </summary>
    public IReadOnlyList<ChangeRow> Audit(IReadOnlyCollection<string> keys, IReadOnlyCollection<string> resources, long? before, int limit)
    {
        var where = "seq < @before";
        if (keys.Count > 0) where += " and " + sql.AnyOf("by_key", "keys");
        if (resources.Count > 0) where += " and " + sql.AnyOf("resource", "resources");
        var statement = $"select {ChangeColumns} from changes where {where} order by seq desc limit @limit";
        using var connection = open();
        return [.. connection.Query<ChangeRow>(statement, new { before = before ?? long.MaxValue, keys = keys.ToArray(), resources = resources.ToArray(), limit })];
    }

    /// <summary>
    /// A page of one record's versions, newest first (or oldest first), after the seq <paramref name="after"/> in that order
    /// (null from the start), and the version just before the page's oldest, which its changes are told against.
    /// </summary>
    public (IReadOnlyList<VersionRow> Page, VersionRow? Before) History(Resource resource, string id, long? after, bool oldestFirst, int limit)
    {
        const string columns = "c.seq, c.op, c.version, c.at, c.by_key as By, v.record";
        const string from = "from changes c left join versions v on v.seq = c.seq where c.resource = @resource and c.record_id = @id";
        var page = oldestFirst
            ? $"select {columns} {from} and c.seq > @after order by c.seq limit @limit"
            : $"select {columns} {from} and c.seq < @after order by c.seq desc limit @limit";
        using var connection = open();
        var rows = connection.Query<VersionRow>(page, new { resource = resource.Name, id, after = after ?? (oldestFirst ? 0 : long.MaxValue), limit }).ToList();
        VersionRow? before = null;
        if (rows.Count > 0)
        {
            var oldest = rows.Min(r => r.Seq);
            before = connection.QuerySingleOrDefault<VersionRow>($"select {columns} {from} and c.seq < @oldest order by c.seq desc limit 1",
                new { resource = resource.Name, id, oldest });
        }
        return (rows, before);
    }

    /// <summary>The snapshot of one version of a record (null when it never had that version, or that version is its deletion).</summary>
    public VersionRow? Version(Resource resource, string id, long version)
    {
        const string statement = """
            select c.seq, c.op, c.version, c.at, c.by_key as By, v.record
            from changes c join versions v on v.seq = c.seq
            where c.resource = @resource and c.record_id = @id and c.version = @version and c.op <> 'deleted'
            """;
        using var connection = open();
        return connection.QuerySingleOrDefault<VersionRow>(statement, new { resource = resource.Name, id, version });
    }

    /// <summary>Every matching row in order, a batch at a time, each batch read in a snapshot of its own, so memory stays flat (exports).</summary>
    public IEnumerable<Row> Stream(ListQuery query, int batch = 500)
    {
        var plan = QueryPlan.For(query, sql);
        object?[]? after = null;
        while (true)
        {
            List<Row> rows;
            using (Instruments.StartSql(sql.System, "SELECT", query.Resource.Table))
            using (var connection = open())
            using (Snapshot(connection))
            {
                rows = Select(connection, plan, after, batch);
                Details(connection, query.Resource, rows);
            }
            foreach (var row in rows) yield return row;
            if (rows.Count < batch) yield break;
            after = rows[^1].SortValues;
        }
    }

    /// <summary>Counts per value of each facet, under the query's filters and search.</summary>
    private Dictionary<string, List<FacetCount>> Facets(TConnection connection, ListQuery query, IEnumerable<string> by)
    {
        var plan = QueryPlan.For(query, sql);
        var resource = query.Resource;
        var matching = $"from {resource.Table} t {plan.Join} where {plan.Where}";
        var result = new Dictionary<string, List<FacetCount>>(StringComparer.Ordinal);
        foreach (var name in by)
        {
            var relation = resource.Relations.FirstOrDefault(r => r.FilterName == name);
            var field = resource.Fields.FirstOrDefault(f => f.Name == name);
            // Null first among equal counts: SQLite's order, spelled out for engines that put nulls last.
            var statement = relation is { Many: true }
                ? $"select j.{relation.OtherColumn}, count(*) from {relation.JoinTable} j where j.{relation.OwnColumn} in (select t.id {matching}) group by 1 order by 2 desc, 1 nulls first limit {ListQuery.MaxFacetValues}"
                : $"select t.{relation?.Column ?? field!.Column}, count(*) {matching} group by 1 order by 2 desc, 1 nulls first limit {ListQuery.MaxFacetValues}";
            result[name] = [.. connection.Query<(object?, long)>(statement, plan.Parameters).Select(p => new FacetCount(
                field?.Type == FieldType.Boolean && p.Item1 is long b ? (b != 0 ? "true" : "false") : p.Item1 is null ? null : Row.Format(p.Item1),
                p.Item2))];
        }
        return result;
    }

    private static List<Row> Select(TConnection connection, QueryPlan plan, object?[]? after, int limit)
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
        var statement = $"select {resource.SelectList}, {keys} from {resource.Table} t {plan.Join} where {where} order by {orderBy} limit @limit";
        return Read(connection.ExecuteReader(statement, parameters), resource, plan.Order.Count);
    }

    protected static List<Row> Read(IDataReader reader, Resource resource, int keyCount)
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

    private Dictionary<Relation, Dictionary<string, Row>> Embed(TConnection connection, ListQuery query, List<Row> rows)
    {
        var included = new Dictionary<Relation, Dictionary<string, Row>>();
        foreach (var relation in query.Include)
        {
            var ids = relation.Many
                ? rows.SelectMany(r => r.Many[relation.Name]).ToHashSet(StringComparer.Ordinal)
                : rows.Select(r => r.Values[query.Resource.ColumnIndex(relation.Name)] as string).OfType<string>().ToHashSet(StringComparer.Ordinal);
            included[relation] = Records(connection, relation.To, ids).ToDictionary(r => r.Id, StringComparer.Ordinal);
        }
        return included;
    }

    private sealed class ReadSession(RecordReader<TConnection> reader, TConnection connection, IDisposable snapshot) : IReadSession
    {
        public Row? Get(Resource resource, string id)
        {
            using var span = Instruments.StartSql(reader.DbSystem, "SELECT", resource.Table);
            return reader.Records(connection, resource, [id]).FirstOrDefault();
        }

        public bool Exists(Resource resource, string id) => reader.Exists(connection, resource, id);

        public RowPage? List(ListQuery query)
        {
            using var span = Instruments.StartSql(reader.DbSystem, "SELECT", query.Resource.Table);
            return reader.List(connection, query);
        }

        public Dictionary<string, List<FacetCount>> Facets(ListQuery query, IEnumerable<string> by)
        {
            using var span = Instruments.StartSql(reader.DbSystem, "SELECT", query.Resource.Table);
            return reader.Facets(connection, query, by);
        }

        public void Dispose()
        {
            try
            {
                snapshot.Dispose();
            }
            finally
            {
                connection.Dispose();
            }
        }
    }
}
