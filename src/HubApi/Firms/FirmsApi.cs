using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Firms;

/// <summary>A firm named by the sources.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The firm's name.</param>
/// <param name="Description">What the source says of the firm.</param>
/// <param name="Zone">Id of the zone the firm is present in.</param>
/// <param name="Industries">Ids of the firm's industries.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Firm(
    string Id, string Name, string? Description, string? Zone,
    IReadOnlyList<string> Industries, IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A firm as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The firm's name.</param>
/// <param name="Description">What the source says of the firm.</param>
/// <param name="Zone">Id of the zone the firm is present in.</param>
/// <param name="Industries">Ids of the firm's industries. Omitted means none.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record FirmInput(
    string? Id, string Name, string? Description, string? Zone, IReadOnlyList<string>? Industries,
    IReadOnlyList<Citation>? Citations);

public static class FirmsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "firms",
        Singular = "firm",
        RecordType = typeof(Firm),
        InputType = typeof(FirmInput),
        ExampleId = "smic",
        Code = 4,
        Description = "Firms named by the sources, such as SMIC.",
        Fields =
        [
            new("description", "description", FieldType.Text) { Description = "What the source says of the firm." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id", "The zone the firm is present in."),
            Relation.ToMany("industries", "industries", "industry", "firm_industries", "firm_id", "industry_id",
                "The firm's industries."),
        ],
    };

    public static RouteGroupBuilder MapFirms(this IEndpointRouteBuilder app)
    {
        var group = app.MapResource(Resource);
        group.MapNested(Resource, Projects.ProjectsApi.Resource);
        return group;
    }
}
