using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Targets;

public static class TargetsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "targets",
        Singular = "target",
        ExampleId = "intelligent-factories",
        Code = 5,
        Description = "The city's targets, such as 200 intelligent factories by 2025.",
        RecordDescription = "A goal the city has set itself, with its deadline.",
        NameDescription = "The target's title.",
        Fields =
        [
            new("value", "value", FieldType.Number)
            {
                Filterable = true, Sortable = true, Minimum = 0,
                Description = "The figure to reach, when the target has one.", FilterDescription = "The figure to reach.",
            },
            new("unit", "unit", FieldType.Text) { MaxLength = 100, Description = "What the value counts." },
            new("deadline", "deadline", FieldType.Integer)
            {
                Nullable = false, Filterable = true, Sortable = true, Minimum = 1900, Maximum = 2200,
                RangeNames = ("deadlineFrom", "deadlineTo"), Description = "The year by which the target is to be met.",
            },
            new("description", "description", FieldType.Text) { Description = "What the source says of the target." },
        ],
        Relations =
        [
            Relation.ToOne("industry", "industries", "industry_id",
                description: "Id of the industry the target concerns, if any.", filterDescription: "The industry the target concerns."),
        ],
    };

    public static RouteGroupBuilder MapTargets(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
