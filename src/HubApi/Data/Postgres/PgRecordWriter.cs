using System.Text.Json;
using System.Text.Json.Nodes;
using Dapper;
using HubApi.Resources;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Writes records of any resource from their JSON form, as <see cref="Sqlite.RecordWriter"/> does: the row, its to-many
/// links, its citations, its search document and its change-feed row, all inside the caller's transaction.
/// </summary>
/// <param name="catalog">The resources.</param>
/// <param name="appended">Told the seq of every feed row appended, before its transaction commits.</param>
/// <param name="reader">Reads a written record back for its version snapshot.</param>
public sealed class PgRecordWriter(ResourceCatalog catalog, Action<long> appended, PgReader reader)
{
    /// <summary>The advisory lock (class, key) every writer takes just before appending to the feed; see <see cref="AppendChanges"/>.</summary>
    public const int FeedLock = 0x48554201;

    public void Insert(NpgsqlConnection connection, Resource resource, JsonObject record, string now, string by, List<FeedRow> feed)
    {
        var sql = statements[resource];
        var id = record["id"]!.GetValue<string>();
        var parameters = Values(sql, record);
        parameters.Add("id", id);
        parameters.Add("now", now);
        connection.Execute(sql.Insert, parameters);
        WriteDetails(connection, resource, id, record, null);
        feed.Add(Change(connection, resource, id, "created", 1, now, by));
    }

    /// <summary>Replaces every writable column of an existing record, as it was <paramref name="before"/>; returns its new version.</summary>
    public long Update(NpgsqlConnection connection, Resource resource, string id, JsonObject record, Row before, string now, string by, List<FeedRow> feed)
    {
        var sql = statements[resource];
        var parameters = Values(sql, record);
        parameters.Add("id", id);
        parameters.Add("now", now);
        var version = connection.ExecuteScalar<long>(sql.Update, parameters);
        WriteDetails(connection, resource, id, record, before);
        feed.Add(Change(connection, resource, id, "updated", version, now, by));
        return version;
    }

    /// <summary>Removes a record with its links and citations; the feed records a tombstone with the next version.</summary>
    public void Delete(NpgsqlConnection connection, Resource resource, string id, string now, string by, List<FeedRow> feed)
    {
        var sql = statements[resource];
        foreach (var link in sql.Links)
        {
            LockOtherSide(connection, link.Relation, connection.Query<string>(link.Targets, new { id }));
            connection.Execute(link.Delete, new { id });
        }
        connection.Execute(DeleteCitations, new { resource = resource.Name, id });
        var version = connection.ExecuteScalar<long>(sql.Delete, new { id });
        feed.Add(Change(connection, resource, id, "deleted", version + 1, now, by));
    }

    /// <summary>Whether the id was ever used for this resource, by a live record or a deleted one: ids are never reused.</summary>
    public static bool WasUsed(NpgsqlConnection connection, Resource resource, string id) =>
        connection.ExecuteScalar<bool>("select exists (select 1 from changes where resource = @resource and record_id = @id)",
            new { resource = resource.Name, id });

    /// <summary>
    /// The records that still point at a record (<see cref="RecordRows.References"/>). The record is locked FOR UPDATE first:
    /// a write that refers to it (FOR KEY SHARE) commits before the look, or waits until the delete is done.
    /// </summary>
    public List<Reference> References(NpgsqlConnection connection, Resource target, string id)
    {
        connection.Execute($"select 1 from {target.Table} where id = @id for update", new { id });
        return RecordRows.References(catalog, target, id, (sql, parameters) => connection.Query<string>(sql, parameters));
    }

    /// <summary>
    /// Links, citations and the search document of one record, written afresh, but for those the record had already
    /// (<paramref name="before"/>, null for a new record).
    /// </summary>
    private void WriteDetails(NpgsqlConnection connection, Resource resource, string id, JsonObject record, Row? before)
    {
        foreach (var link in statements[resource].Links)
        {
            var targets = (record[link.Relation.Name] as JsonArray ?? []).Select(t => t!.GetValue<string>()).Distinct().ToArray();
            var old = before?.Many[link.Relation.Name] ?? [];
            var moved = new HashSet<string>(old, StringComparer.Ordinal);
            moved.SymmetricExceptWith(targets);
            if (moved.Count == 0 && before is not null) continue;
            LockOtherSide(connection, link.Relation, moved);
            connection.Execute(link.Delete, new { id });
            if (targets.Length > 0) connection.Execute(link.Insert, new { id, targets });
        }

        var citations = (record["citations"] as JsonArray ?? []).Select(c => new Citation(c!["source"]!.GetValue<string>(), c["quote"]!.GetValue<string>())).ToList();
        if (before is null || !before.Citations.SequenceEqual(citations))
        {
            connection.Execute(DeleteCitations, new { resource = resource.Name, id });
            if (citations.Count > 0)
            {
                connection.Execute(InsertCitations, new
                {
                    resource = resource.Name, id, sources = citations.Select(c => c.Source).ToArray(), quotes = citations.Select(c => c.Quote).ToArray(),
                });
            }
        }

        if (RecordRows.SearchText(resource, record, citations, before) is var (name, body))
            connection.Execute(statements[resource].Search, new { id, name = PgFullText.Words(name), body = PgFullText.Words(body) });
    }

    /// <summary>
    /// Locks the records on the other side of the links a write adds or removes, until it commits, in a mode that
    /// conflicts with a write to them (FOR NO KEY UPDATE): that write waits for this one, or this one for it, so neither
    /// renders the other's record from before the other's commit and keeps that rendering as its cached answer.
    /// </summary>
    private static void LockOtherSide(NpgsqlConnection connection, Relation relation, IEnumerable<string> ids)
    {
        var targets = ids.Order(StringComparer.Ordinal).ToArray();
        if (targets.Length == 0) return;
        connection.Execute($"select 1 from {relation.To.Table} where id = any(@targets) order by id for share", new { targets });
    }

    /// <summary>A change as written, with the record as this transaction now reads it (none for a deletion), for <see cref="AppendChanges"/>.</summary>
    private FeedRow Change(NpgsqlConnection connection, Resource resource, string id, string op, long version, string at, string by) =>
        new(resource.Name, id, op, version, at, by, op == "deleted" ? null : RecordSnapshot.Write(resource, reader.Get(connection, resource, id)!));

    /// <summary>
    /// Appends a write's changes, with their versions, under the feed lock, held until the commit: writers append and
    /// commit one after another, so the feed's rows become visible in seq order and a poller reading after the last seq
    /// it saw never skips one. A write appends its changes last, just before it commits, and so takes the feed lock
    /// after every record lock it needs: a batch of many records cannot hold the feed lock while it waits for a record
    /// another write has locked, and that write for the feed lock.
    /// </summary>
    public void AppendChanges(NpgsqlConnection connection, IReadOnlyList<FeedRow> feed)
    {
        if (feed.Count == 0) return;
        connection.Execute("select pg_advisory_xact_lock(@feedLock, 0)", new { feedLock = FeedLock });
        foreach (var change in feed) appended(connection.ExecuteScalar<long>(AppendChangeSql, change));
    }

    private const string AppendChangeSql = """
        with change as (
            insert into changes (resource, record_id, op, version, at, by_key) values (@Resource, @Id, @Op, @Version, @At, @By) returning seq),
        version as (insert into versions (seq, record) select seq, @Record from change where @Record::text is not null)
        select seq from change;
        """;

    private const string DeleteCitations = "delete from citations where resource = @resource and record_id = @id";

    private const string InsertCitations = """
        insert into citations (resource, record_id, position, source_id, quote)
        select @resource, @id, c.position - 1, c.source_id, c.quote
        from unnest(@sources, @quotes) with ordinality as c (source_id, quote, position)
        """;

    /// <summary>The SQL of a resource's writes, built once from its definition.</summary>
    private sealed class WriteSql : RowStatements
    {
        public WriteSql(Resource resource) : base(resource)
        {
            Search = $"update {resource.Table} set search = {PgFullText.Document} where id = @id";
            Links = [.. resource.ToMany.Select(r => new LinkSql(r,
                $"select {r.OtherColumn} from {r.JoinTable} where {r.OwnColumn} = @id",
                $"delete from {r.JoinTable} where {r.OwnColumn} = @id",
                $"insert into {r.JoinTable} ({r.OwnColumn}, {r.OtherColumn}) select @id, unnest(@targets)"))];
        }

        public string Search { get; }
        public LinkSql[] Links { get; }
    }

    private sealed record LinkSql(Relation Relation, string Targets, string Delete, string Insert);

    private readonly Dictionary<Resource, WriteSql> statements = catalog.All.ToDictionary(r => r, r => new WriteSql(r));

    private static DynamicParameters Values(WriteSql sql, JsonObject record)
    {
        var parameters = new DynamicParameters();
        foreach (var column in sql.Columns) parameters.Add(column.Name, RecordRows.Scalar(record[column.Name], column.Type));
        return parameters;
    }
}

/// <summary>A change-feed row a write will append (<see cref="PgRecordWriter.AppendChanges"/>), with its version's snapshot.</summary>
public sealed record FeedRow(string Resource, string Id, string Op, long Version, string At, string By, string? Record);
