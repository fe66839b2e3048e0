using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Services;

/// <summary>One of the city's digital services.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The service's name.</param>
/// <param name="Area">The area the service covers.</param>
/// <param name="Figure">A figure the source gives for the service.</param>
/// <param name="Description">What the source says of the service.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Service(
    string Id, string Name, ServiceArea? Area, string? Figure, string? Description,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A service as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The service's name.</param>
/// <param name="Area">The area the service covers.</param>
/// <param name="Figure">A figure the source gives for the service.</param>
/// <param name="Description">What the source says of the service.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record ServiceInput(
    string? Id, string Name, ServiceArea? Area, string? Figure, string? Description,
    IReadOnlyList<Citation>? Citations);

/// <summary>The areas the city's digital services cover.</summary>
[System.Text.Json.Serialization.JsonConverter(typeof(System.Text.Json.Serialization.JsonStringEnumConverter<ServiceArea>))]
public enum ServiceArea
{
    [System.Text.Json.Serialization.JsonStringEnumMemberName("economy")] Economy,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("daily-life")] DailyLife,
    [System.Text.Json.Serialization.JsonStringEnumMemberName("urban-management")] UrbanManagement,
}

public static class ServicesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "services",
        Singular = "service",
        RecordType = typeof(Service),
        InputType = typeof(ServiceInput),
        ExampleId = "bus-arrival-forecast",
        Code = 8,
        Description = "The city's digital services, covering the economy, daily life and urban management.",
        Fields =
        [
            new("area", "area", FieldType.Text)
            {
                Filterable = true, Sortable = true, Values = ["economy", "daily-life", "urban-management"],
                Description = "The area the service covers.",
            },
            new("figure", "figure", FieldType.Text) { MaxLength = 200, Description = "A figure the source gives for the service." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the service." },
        ],
    };

    public static RouteGroupBuilder MapServices(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
