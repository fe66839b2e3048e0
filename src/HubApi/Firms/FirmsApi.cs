using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Firms;

public static class FirmsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "firms",
        Singular = "firm",
        ExampleId = "smic",
        Code = 4,
        Description = "Firms named by the sources, such as SMIC.",
        RecordDescription = "A firm named by the sources.",
        Fields =
        [
            new("description", "description", FieldType.Text) { Description = "What the source says of the firm." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id",
                description: "Id of the zone the firm is present in.", filterDescription: "The zone the firm is present in."),
            Relation.ToMany("industries", "industries", "industry", "firm_industries", "firm_id", "industry_id",
                description: "Ids of the firm's industries.", filterDescription: "The firm's industries."),
        ],
    };

    public static RouteGroupBuilder MapFirms(this IEndpointRouteBuilder app)
    {
        var group = app.MapResource(Resource);
        group.MapNested(Resource, Projects.ProjectsApi.Resource);
        return group;
    }
}
