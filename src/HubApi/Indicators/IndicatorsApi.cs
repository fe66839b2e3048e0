using HubApi.Http;
using HubApi.Resources;

namespace HubApi.Indicators;

/// <summary>A figure about the city, such as its number of national research labs.</summary>
/// <param name="Id">Stable slug id.</param>
/// <param name="Name">The indicator's name.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">What the value counts.</param>
/// <param name="Description">What the source says of the figure.</param>
/// <param name="Zone">Id of the zone the figure is about, if it is about one.</param>
/// <param name="Citations">Quotes from the sources that support this record.</param>
/// <param name="Version">Increments on every write.</param>
/// <param name="CreatedAt">When the record was created (UTC).</param>
/// <param name="UpdatedAt">When the record was last changed (UTC).</param>
public sealed record Indicator(
    string Id, string Name, double? Value, string? Unit, string? Description, string? Zone,
    IReadOnlyList<Citation> Citations,
    long Version, DateTime CreatedAt, DateTime UpdatedAt);

/// <summary>A indicator as POST and PUT write it; PATCH takes any part of it as a JSON merge patch.</summary>
/// <param name="Id">Stable slug id (lowercase letters, digits and single hyphens); derived from the name when omitted on create.</param>
/// <param name="Name">The indicator's name.</param>
/// <param name="Value">The figure.</param>
/// <param name="Unit">What the value counts.</param>
/// <param name="Description">What the source says of the figure.</param>
/// <param name="Zone">Id of the zone the figure is about, if it is about one.</param>
/// <param name="Citations">Quotes from the sources that support this record. Omitted means none.</param>
public sealed record IndicatorInput(
    string? Id, string Name, double? Value, string? Unit, string? Description, string? Zone,
    IReadOnlyList<Citation>? Citations);

public static class IndicatorsApi
{
    public static readonly Resource Resource = new()
    {
        Name = "indicators",
        Singular = "indicator",
        RecordType = typeof(Indicator),
        InputType = typeof(IndicatorInput),
        ExampleId = "national-research-labs",
        Code = 9,
        Description = "Figures about the city, such as its 45 national research labs.",
        Fields =
        [
            new("value", "value", FieldType.Number) { Filterable = true, Sortable = true, Description = "The figure." },
            new("unit", "unit", FieldType.Text) { MaxLength = 100, Description = "What the value counts." },
            new("description", "description", FieldType.Text) { Description = "What the source says of the figure." },
        ],
        Relations =
        [
            Relation.ToOne("zone", "zones", "zone_id", "The zone the figure is about."),
        ],
    };

    public static RouteGroupBuilder MapIndicators(this IEndpointRouteBuilder app) => app.MapResource(Resource);
}
