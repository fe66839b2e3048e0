namespace HubApi.Http;

/// <summary>A quote from a source document that supports a record.</summary>
/// <param name="Source">The id of the source document.</param>
/// <param name="Quote">The supporting sentence, verbatim.</param>
public sealed record Citation(string Source, string Quote);

/// <summary>A page of a collection.</summary>
/// <param name="Items">The records of this page.</param>
/// <param name="Next">The cursor of the next page, or null on the last page.</param>
public sealed record Page<T>(IReadOnlyList<T> Items, string? Next)
{
    /// <summary>The number of records matching the filters; present only when count=true.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public long? Total { get; init; }
}

/// <summary>How many matching records carry one value of a facet.</summary>
/// <param name="Value">The value (an id for relations; "true"/"false" for booleans); null counts records without one.</param>
/// <param name="Count">The number of matching records with this value.</param>
public sealed record FacetCount(string? Value, long Count);
