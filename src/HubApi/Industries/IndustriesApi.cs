using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Industries;

public static class IndustriesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "industries",
        Singular = "industry",
        ExampleId = "integrated-circuits",
        Code = 3,
        Description = "Industries the city develops: the three strategic ones and the fields its zones are bases for.",
        RecordDescription = "An industry or field the city develops.",
        Fields =
        [
            new("strategic", "strategic", FieldType.Boolean)
            {
                Nullable = false, Filterable = true, Sortable = true,
                Description = "Whether the city names it one of its three strategic industries.",
                FilterDescription = "Whether it is one of the city's three strategic industries.",
            },
            new("description", "description", FieldType.Text) { Description = "What the source says of the industry." },
        ],
        Relations =
        [
            Relation.ToMany("zones", "zones", "zone", "zone_industries", "industry_id", "zone_id",
                description: "Ids of the zones that are a base for this industry.", filterDescription: "Zones that are a base for the industry."),
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
