namespace HubApi.Resources;

/// <summary>A quote from a source document that supports a record.</summary>
/// <param name="Source">The id of the source document.</param>
/// <param name="Quote">The supporting sentence, verbatim.</param>
public sealed record Citation(string Source, string Quote)
{
    /// <summary>The resource whose records citations point at.</summary>
    public const string SourceResource = "sources";
}

/// <summary>How many matching records carry one value of a facet.</summary>
/// <param name="Value">The value (an id for relations; "true"/"false" for booleans); null counts records without one.</param>
/// <param name="Count">The number of matching records with this value.</param>
public sealed record FacetCount(string? Value, long Count);

/// <summary>One record as read: its columns in <see cref="Resource.Columns"/> order, to-many ids and citations.</summary>
public sealed class Row(object?[] values)
{
    public object?[] Values { get; } = values;
    public string Id => (string)Values[0]!;
    public Dictionary<string, List<string>> Many { get; } = new(StringComparer.Ordinal);
    public List<Citation> Citations { get; } = [];
    /// <summary>The values of the page's sort expressions, for the next cursor.</summary>
    public object?[] SortValues { get; set; } = [];

    /// <summary>A stored value as text (CSV cells, facet values): numbers in invariant culture, doubles round-trippable.</summary>
    public static string Format(object? value) => value switch
    {
        null => "",
        double d => d.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        IFormattable f => f.ToString(null, System.Globalization.CultureInfo.InvariantCulture),
        _ => value.ToString() ?? "",
    };
}

/// <summary>A page of rows, the cursor for the next one, and the records embedded by include.</summary>
public sealed record RowPage(List<Row> Rows, string? Next, long? Total, Dictionary<Relation, Dictionary<string, Row>> Included);

/// <summary>Records of one resource that point at another record through one of their properties.</summary>
public sealed record Reference(string Resource, string Via, IReadOnlyList<string> Ids, bool More);
