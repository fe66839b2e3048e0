using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Projects;

/// <summary>An investment project, such as a new plant.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The project's name.</param>
/// <param name="InvestmentUsd">Total investment in US dollars.</param>
/// <param name="Description">What the source says of the project.</param>
/// <param name="Firm">Id of the firm behind the project.</param>
/// <param name="Zone">Id of the zone the project is in.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Project(
    string Id, string Name, double? InvestmentUsd, string? Description, string? Firm, string? Zone,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A project as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The project's name.</param>
/// <param name="InvestmentUsd">Total investment in US dollars.</param>
/// <param name="Description">What the source says of the project.</param>
/// <param name="Firm">Id of the firm behind the project.</param>
/// <param name="Zone">Id of the zone the project is in.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record ProjectInput(
    string? Id, string Name, double? InvestmentUsd, string? Description, string? Firm, string? Zone,
    IReadOnlyList<Citation>? Citations);

public static class ProjectsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "projects",
        Singular = "project",
        RecordType = typeof(Project),
        InputType = typeof(ProjectInput),
        ExampleId = "smic-lingang-wafer-plant",
        Code = 6,
        Description = "Investment projects, such as SMIC's wafer plant in Lingang.",
        Fields =
        [
            new("investmentUsd", "investment_usd", FieldType.Number) { Filterable = true, Sortable = true, Minimum = 0, Description = "Total investment in US dollars." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the project." },
        ],
        Relations =
        [
            Relation.ToOne("firm", "firms", "firm_id", "The firm behind the project."),
            Relation.ToOne("zone", "zones", "zone_id", "The zone the project is in."),
        ],
    };

    public static RouteGroupBuilder MapProjects(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
