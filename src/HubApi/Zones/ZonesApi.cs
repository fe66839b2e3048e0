using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Zones;

/// <summary>An industrial zone of Shanghai.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The zone's name.</param>
/// <param name="District">The district the zone lies in.</param>
/// <param name="Description">What the source says of the zone.</param>
/// <param name="Industries">Ids of the industries the zone is a base for.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Zone(
    string Id, string Name, string? District, string? Description,
    IReadOnlyList<string> Industries, IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A zone as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The zone's name.</param>
/// <param name="District">The district the zone lies in.</param>
/// <param name="Description">What the source says of the zone.</param>
/// <param name="Industries">Ids of the industries the zone is a base for. Omitted means none.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record ZoneInput(
    string? Id, string Name, string? District, string? Description, IReadOnlyList<string>? Industries,
    IReadOnlyList<Citation>? Citations);

public static class ZonesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "zones",
        Singular = "zone",
        RecordType = typeof(Zone),
        InputType = typeof(ZoneInput),
        ExampleId = "zhangjiang",
        Code = 2,
        Description = "Shanghai's industrial zones, such as Zhangjiang, Lingang and the West Bund.",
        Fields =
        [
            new("district", "district", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 100, Description = "The district the zone lies in." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the zone." },
        ],
        Relations =
        [
            Relation.ToMany("industries", "industries", "industry", "zone_industries", "zone_id", "industry_id",
                "Industries the zone is a base for."),
        ],
    };

    public static RouteGroupBuilder MapZones(this IEndpointRouteBuilder app)
    {
        var group = app.MapResource(Resource);
        group.MapNested(Resource, Firms.FirmsApi.Resource);
        group.MapNested(Resource, Industries.IndustriesApi.Resource);
        group.MapNested(Resource, Facilities.FacilitiesApi.Resource);
        group.MapNested(Resource, Projects.ProjectsApi.Resource);
        group.MapNested(Resource, Indicators.IndicatorsApi.Resource);
        return group;
    }
}
