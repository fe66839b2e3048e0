using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Facilities;

public static class FacilitiesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "facilities",
        Singular = "facility",
        ExampleId = "ssrf",
        Code = 7,
        Description = "Research facilities and labs, such as the Shanghai Synchrotron Radiation Facility.",
        RecordDescription = "A research facility or lab.",
        Fields =
        [
            new("kind", "kind", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 100, Description = "What sort of facility it is." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the facility." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id",
                description: "Id of the zone the facility is in.", filterDescription: "The zone the facility is in."),
        ],
    };

    public static RouteGroupBuilder MapFacilities(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
