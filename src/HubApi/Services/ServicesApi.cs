using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Services;

public static class ServicesApi
{
    public static readonly Resource Resource = new()
    {
        Name = "services",
        Singular = "service",
        ExampleId = "bus-arrival-forecast",
        Code = 8,
        Description = "The city's digital services, covering the economy, daily life and urban management.",
        RecordDescription = "One of the city's digital services.",
        Fields =
        [
            new("area", "area", FieldType.Text)
            {
                Filterable = true, Sortable = true, Values = ["economy", "daily-life", "urban-management"],
                ValuesDescription = "The areas the city's digital services cover.", Description = "The area the service covers.",
            },
            new("figure", "figure", FieldType.Text) { MaxLength = 200, Description = "A figure the source gives for the service." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the service." },
        ],
    };

    public static RouteGroupBuilder MapServices(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
