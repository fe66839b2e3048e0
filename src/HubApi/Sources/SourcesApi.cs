using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Sources;

public static class SourcesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "sources",
        Singular = "source",
        ExampleId = "shanghai-digital-hub",
        Code = 1,
        Description = "The documents the dataset is built from; every record's citations point here.",
        RecordDescription = "A source document that records cite.",
        NameDescription = "The document's title.",
        CitationsDescription = "Quotes that support this record's own fields.",
        InputDescription = "A source document as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.",
        Fields =
        [
            new("author", "author", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 200, Description = "Who wrote it." },
            new("section", "section", FieldType.Text) { Filterable = true, MaxLength = 200, Description = "The section it appeared in." },
            new("description", "description", FieldType.Text) { Description = "What the document is about." },
            new("text", "text", FieldType.Text) { MaxLength = 1_000_000, Description = "The document's full text, in which every quote can be found." },
        ],
    };

    public static RouteGroupBuilder MapSources(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
