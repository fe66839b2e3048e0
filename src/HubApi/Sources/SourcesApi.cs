using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Sources;

/// <summary>A source document that records cite.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The document's title.</param>
/// <param name="Author">Who wrote it.</param>
/// <param name="Section">The section it appeared in.</param>
/// <param name="Description">What the document is about.</param>
/// <param name="Text">The document's full text, in which every quote can be found.</param>
/// <param name="Citations">Quotes that support this record's own fields.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Source(
    string Id, string Name, string? Author, string? Section, string? Description, string? Text,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A source document as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The document's title.</param>
/// <param name="Author">Who wrote it.</param>
/// <param name="Section">The section it appeared in.</param>
/// <param name="Description">What the document is about.</param>
/// <param name="Text">The document's full text, in which every quote can be found.</param>
/// <param name="Citations">Quotes that support this record's own fields. Omitted means none.</param>
public sealed record SourceInput(
    string? Id, string Name, string? Author, string? Section, string? Description, string? Text,
    IReadOnlyList<Citation>? Citations);

public static class SourcesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "sources",
        Singular = "source",
        RecordType = typeof(Source),
        InputType = typeof(SourceInput),
        ExampleId = "shanghai-digital-hub",
        Code = 1,
        Description = "The documents the dataset is built from; every record's citations point here.",
        Fields =
        [
            new("author", "author", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 200, Description = "Who wrote it." },
            new("section", "section", FieldType.Text) { Filterable = true, MaxLength = 200, Description = "The section it appeared in." },
            new("description", "description", FieldType.Text) { Description = "What the document is about." },
            new("text", "text", FieldType.Text) { MaxLength = 1_000_000, Description = "The document's full text." },
        ],
    };

    public static RouteGroupBuilder MapSources(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
