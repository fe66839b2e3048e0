using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Facilities;

/// <summary>A research facility or lab.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The facility's name.</param>
/// <param name="Kind">What sort of facility it is.</param>
/// <param name="Description">What the source says of the facility.</param>
/// <param name="Zone">Id of the zone the facility is in.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Facility(
    string Id, string Name, string? Kind, string? Description, string? Zone,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A facility as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The facility's name.</param>
/// <param name="Kind">What sort of facility it is.</param>
/// <param name="Description">What the source says of the facility.</param>
/// <param name="Zone">Id of the zone the facility is in.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record FacilityInput(
    string? Id, string Name, string? Kind, string? Description, string? Zone,
    IReadOnlyList<Citation>? Citations);

public static class FacilitiesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "facilities",
        Singular = "facility",
        RecordType = typeof(Facility),
        InputType = typeof(FacilityInput),
        ExampleId = "ssrf",
        Code = 7,
        Description = "Research facilities and labs, such as the Shanghai Synchrotron Radiation Facility.",
        Fields =
        [
            new("kind", "kind", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 100, Description = "What sort of facility it is." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the facility." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id", "The zone the facility is in."),
        ],
    };

    public static RouteGroupBuilder MapFacilities(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
