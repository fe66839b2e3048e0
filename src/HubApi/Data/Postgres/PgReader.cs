using System.Data;
using Dapper;
using HubApi.Resources;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Reads records from PostgreSQL: by id with their links and citations (ids bound as one array), locking them inside a
/// write; pages, exports and facets as every engine reads them.
/// </summary>
public sealed class PgReader(ResourceCatalog catalog, Func<NpgsqlConnection> open) : RecordReader<NpgsqlConnection>(PgDialect.Instance, open)
{
    protected override List<Row> Records(NpgsqlConnection connection, Resource resource, IReadOnlyCollection<string> ids) => ByIds(connection, resource, ids);

    protected override void Details(NpgsqlConnection connection, Resource resource, List<Row> rows) => LoadDetails(connection, resource, rows);

    protected override IDisposable Snapshot(NpgsqlConnection connection) => Postgres.Snapshot.Begin(connection);

    protected override bool Exists(NpgsqlConnection connection, Resource resource, string id) => Exists(connection, resource, id, keyShare: false);

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
    public bool Exists(NpgsqlConnection connection, Resource resource, string id, bool keyShare) =>
        connection.ExecuteScalar<bool>(keyShare ? existsForKeyShare[resource] : existsSql[resource], new { id });

    private readonly Dictionary<Resource, string> existsSql =
        catalog.All.ToDictionary(r => r, r => $"select exists (select 1 from {r.Table} where id = @id)");

    private readonly Dictionary<Resource, string> existsForKeyShare =
        catalog.All.ToDictionary(r => r, r => $"select exists (select 1 from {r.Table} where id = @id for key share)");

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
}
