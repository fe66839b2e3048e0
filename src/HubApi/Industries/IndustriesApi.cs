using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Industries;

/// <summary>An industry or field the city develops.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The industry's name.</param>
/// <param name="Strategic">Whether the city names it one of its three strategic industries.</param>
/// <param name="Description">What the source says of the industry.</param>
/// <param name="Zones">Ids of the zones that are a base for this industry.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Industry(
    string Id, string Name, bool Strategic, string? Description,
    IReadOnlyList<string> Zones, IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A industry as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The industry's name.</param>
/// <param name="Strategic">Whether the city names it one of its three strategic industries.</param>
/// <param name="Description">What the source says of the industry.</param>
/// <param name="Zones">Ids of the zones that are a base for this industry. Omitted means none.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record IndustryInput(
    string? Id, string Name, bool Strategic, string? Description, IReadOnlyList<string>? Zones,
    IReadOnlyList<Citation>? Citations);

public static class IndustriesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "industries",
        Singular = "industry",
        RecordType = typeof(Industry),
        InputType = typeof(IndustryInput),
        ExampleId = "integrated-circuits",
        Code = 3,
        Description = "Industries the city develops: the three strategic ones and the fields its zones are bases for.",
        Fields =
        [
            new("strategic", "strategic", FieldType.Boolean) { Nullable = false, Filterable = true, Sortable = true, Description = "Whether it is one of the city's three strategic industries." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the industry." },
        ],
        Relations =
        [
            Relation.ToMany("zones", "zones", "zone", "zone_industries", "industry_id", "zone_id",
                "Zones that are a base for the industry."),
        ],
    };

    public static RouteGroupBuilder MapIndustries(this IEndpointRouteBuilder app)
    {
        var group = app.MapResource(Resource);
        group.MapNested(Resource, Firms.FirmsApi.Resource);
        group.MapNested(Resource, Zones.ZonesApi.Resource);
        group.MapNested(Resource, Targets.TargetsApi.Resource);
        return group;
    }
}
