using System.Text;
using HubApi.Resources;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// The search index: one contentless FTS5 row per record, numbered (<see cref="Resource.Code"/> &lt;&lt; 40) + the record's row_id,
/// so searching one resource is a rowid range and each hit joins its record by integer key.
/// </summary>
public sealed class FullText(ResourceCatalog catalog)
{
    public static long Base(Resource resource) => (long)resource.Code << 40;

    /// <summary>
    /// A join of the resource's rows (alias t) to their matches (alias s, with s.rank: lower is better). bm25 weighs
    /// a match in the name ten times one in the body.
    /// </summary>
    public static string Join(Resource resource, Func<object?, string> bind, string text) =>
        $"join (select rowid - {bind(Base(resource))} as row_id, bm25(search, 10.0, 1.0) as rank from search " +
        $"where search match {bind(Query(text))} and rowid between {bind(Base(resource))} and {bind(Base(resource) + (1L << 40) - 1)}) s " +
        "on s.row_id = t.row_id";

    /// <summary>Writes the record's search row afresh.</summary>
    public void Index(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id, string name, string body)
    {
        Remove(connection, tx, resource, id);
        connection.ExecutePrepared(tx, writes[resource].Insert, ("id", id), ("name", name), ("body", body));
    }

    /// <summary>Removes the record's search row; call before the record itself is deleted.</summary>
    public void Remove(SqliteConnection connection, SqliteTransaction tx, Resource resource, string id) =>
        connection.ExecutePrepared(tx, writes[resource].Delete, ("id", id));

    /// <summary>Each resource's statements that write the search row of its record with id @id, built once.</summary>
    private readonly Dictionary<Resource, (string Insert, string Delete)> writes = catalog.All.ToDictionary(r => r, r =>
    {
        var rowId = $"(select {Base(r)} + row_id from {r.Table} where id = @id)";
        return ($"insert into search (rowid, name, body) values ({rowId}, @name, @body)", $"delete from search where rowid = {rowId}");
    });

    /// <summary>Turns user text into a literal FTS5 query: every word quoted, prefix-matched, all required.</summary>
    public static string Query(string text)
    {
        var terms = new List<string>();
        var word = new StringBuilder();
        foreach (var c in text.Append(' '))
        {
            if (char.IsLetterOrDigit(c)) word.Append(c);
            else if (word.Length > 0)
            {
                terms.Add(word.ToString());
                word.Clear();
            }
        }
        // A search with no words matches nothing rather than failing: '""' is a valid, empty FTS5 phrase.
        return terms.Count == 0 ? "\"\"" : string.Join(" ", terms.Take(16).Select(t => $"\"{t}\"*"));
    }
}

/// <summary>SQLite's SQL where engines differ: FTS5 search, and numbers of either type sorting nulls as a double.</summary>
public sealed class SqliteDialect : SqlDialect
{
    public static readonly SqliteDialect Instance = new();

    public override string System => "sqlite";

    public override (string Join, string? Condition, string Rank) Search(Resource resource, Func<object?, string> bind, string text) =>
        (FullText.Join(resource, bind, text), null, "s.rank");

    public override string NullSortKey(FieldType type) => type == FieldType.Text ? "''" : "-9.0e18";

    /// <summary>Dapper expands the array into one parameter per string for SQLite.</summary>
    public override string AnyOf(string column, string parameter) => $"{column} in @{parameter}";
}
