using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Projects;

public static class ProjectsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "projects",
        Singular = "project",
        ExampleId = "smic-lingang-wafer-plant",
        Code = 6,
        Description = "Investment projects, such as SMIC's wafer plant in Lingang.",
        RecordDescription = "An investment project, such as a new plant.",
        Fields =
        [
            new("investmentUsd", "investment_usd", FieldType.Number) { Filterable = true, Sortable = true, Minimum = 0, Description = "Total investment in US dollars." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the project." },
        ],
        Relations =
        [
            Relation.ToOne("firm", "firms", "firm_id",
                description: "Id of the firm behind the project.", filterDescription: "The firm behind the project."),
            Relation.ToOne("zone", "zones", "zone_id",
                description: "Id of the zone the project is in.", filterDescription: "The zone the project is in."),
        ],
    };

    public static RouteGroupBuilder MapProjects(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
