namespace HubApi.Http;

/// <summary>All resources, in dependency order (targets of relations first): the order the seed loads them.</summary>
public static class ResourceCatalog
{
    public static readonly IReadOnlyList<Resource> All =
    [
        Sources.SourcesApi.Resource,
        Industries.IndustriesApi.Resource,
        Zones.ZonesApi.Resource,
        Firms.FirmsApi.Resource,
        Targets.TargetsApi.Resource,
        Projects.ProjectsApi.Resource,
        Facilities.FacilitiesApi.Resource,
        Services.ServicesApi.Resource,
        Indicators.IndicatorsApi.Resource,
    ];

    private static readonly Dictionary<string, Resource> ByName = All.ToDictionary(r => r.Name, StringComparer.Ordinal);

    public static Resource? Get(string name) => ByName.GetValueOrDefault(name);
}
