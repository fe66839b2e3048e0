using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Targets;

/// <summary>A goal the city has set itself, with its deadline.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The target's title.</param>
/// <param name="Value">The figure to reach, when the target has one.</param>
/// <param name="Unit">What the value counts.</param>
/// <param name="Deadline">The year by which the target is to be met.</param>
/// <param name="Description">What the source says of the target.</param>
/// <param name="Industry">Id of the industry the target concerns, if any.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Target(
    string Id, string Name, double? Value, string? Unit, long Deadline, string? Description, string? Industry,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A target as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The target's title.</param>
/// <param name="Value">The figure to reach, when the target has one.</param>
/// <param name="Unit">What the value counts.</param>
/// <param name="Deadline">The year by which the target is to be met.</param>
/// <param name="Description">What the source says of the target.</param>
/// <param name="Industry">Id of the industry the target concerns, if any.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record TargetInput(
    string? Id, string Name, double? Value, string? Unit, long Deadline, string? Description, string? Industry,
    IReadOnlyList<Citation>? Citations);

public static class TargetsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "targets",
        Singular = "target",
        RecordType = typeof(Target),
        InputType = typeof(TargetInput),
        ExampleId = "intelligent-factories",
        Code = 5,
        Description = "The city's targets, such as 200 intelligent factories by 2025.",
        Fields =
        [
            new("value", "value", FieldType.Number) { Filterable = true, Sortable = true, Minimum = 0, Description = "The figure to reach." },
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
            Relation.ToOne("industry", "industries", "industry_id", "The industry the target concerns."),
        ],
    };

    public static RouteGroupBuilder MapTargets(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
