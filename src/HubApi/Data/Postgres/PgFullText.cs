using System.Text;
using HubApi.Resources;

namespace HubApi.Data.Postgres;

/// <summary>
/// The search index: each record row's own tsvector column (search, GIN-indexed), in the simple configuration, its name
/// weighted A and its body B. Text is split into words here, exactly as <see cref="Sqlite.FullText.Query"/> splits a
/// query (runs of letters and digits), so a document and a query are cut alike and PostgreSQL's parser sees plain words.
/// </summary>
public static class PgFullText
{
    /// <summary>The search document of a record, from its name (@name) and body (@body), each already passed through <see cref="Words"/>.</summary>
    public const string Document = "setweight(to_tsvector('simple', @name), 'A') || setweight(to_tsvector('simple', @body), 'B')";

    /// <summary>
    /// A join of the resource's rows (alias t) to the query (alias s, with s.query), and the condition that they match.
    /// Relevance (<see cref="Rank"/>) weighs a match in the name ten times one in the body, as bm25(10, 1) does in SQLite.
    /// </summary>
    public static (string Join, string Condition) Match(Func<object?, string> bind, string text) =>
        ($"cross join to_tsquery('simple', {bind(Query(text))}) as s(query)", "t.search @@ s.query");

    /// <summary>The relevance sort key: lower is better, as SQLite's bm25 rank, so it sorts ascending before the id.</summary>
    public const string Rank = "(-ts_rank('{0, 0, 0.1, 1}', t.search, s.query))::float8";

    /// <summary>Turns user text into a tsquery: every word quoted, prefix-matched, all required; no words match nothing.</summary>
    public static string Query(string text) => string.Join(" & ", Split(text).Take(16).Select(t => $"'{t}':*"));

    /// <summary>The text as the index holds it: its words, lower-cased, one space apart.</summary>
    public static string Words(string text) => string.Join(' ', Split(text));

    private static IEnumerable<string> Split(string text)
    {
        var word = new StringBuilder();
        foreach (var c in text.Append(' '))
        {
            if (char.IsLetterOrDigit(c)) word.Append(char.ToLowerInvariant(c));
            else if (word.Length > 0)
            {
                yield return word.ToString();
                word.Clear();
            }
        }
    }
}

/// <summary>PostgreSQL's SQL where engines differ: tsvector search, and nulls sorting as a value of the column's own type.</summary>
public sealed class PgDialect : SqlDialect
{
    public static readonly PgDialect Instance = new();

    public override string System => "postgresql";

    public override (string Join, string? Condition, string Rank) Search(Resource resource, Func<object?, string> bind, string text)
    {
        var (join, condition) = PgFullText.Match(bind, text);
        return (join, condition, PgFullText.Rank);
    }

    /// <summary>Npgsql binds the array as one PostgreSQL array, which Dapper leaves whole.</summary>
    public override string AnyOf(string column, string parameter) => $"{column} = any(@{parameter})";

    /// <summary>A bigint stand-in for bigint columns, so cursor values read back as they were.</summary>
    public override string NullSortKey(FieldType type) => type switch
    {
        FieldType.Text => "''",
        FieldType.Number => "-9.0e18::float8",
        _ => "-9000000000000000000::bigint",
    };
}
