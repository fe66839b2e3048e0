using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Indicators;

public static class IndicatorsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "indicators",
        Singular = "indicator",
        ExampleId = "national-research-labs",
        Code = 9,
        Description = "Figures about the city, such as its 45 national research labs.",
        RecordDescription = "A figure about the city, such as its number of national research labs.",
        Fields =
        [
            new("value", "value", FieldType.Number) { Filterable = true, Sortable = true, Description = "The figure." },
            new("unit", "unit", FieldType.Text) { MaxLength = 100, Description = "What the value counts." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the figure." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id",
                description: "Id of the zone the figure is about, if it is about one.", filterDescription: "The zone the figure is about."),
        ],
    };

    public static RouteGroupBuilder MapIndicators(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
