using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Zones;

public static class ZonesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "zones",
        Singular = "zone",
        ExampleId = "zhangjiang",
        Code = 2,
        Description = "Shanghai's industrial zones, such as Zhangjiang, Lingang and the West Bund.",
        RecordDescription = "An industrial zone of Shanghai.",
        Fields =
        [
            new("district", "district", FieldType.Text) { Filterable = true, Sortable = true, MaxLength = 100, Description = "The district the zone lies in." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the zone." },
        ],
        Relations =
        [
            Relation.ToMany("industries", "industries", "industry", "zone_industries", "zone_id", "industry_id",
                description: "Ids of the industries the zone is a base for.", filterDescription: "Industries the zone is a base for."),
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
