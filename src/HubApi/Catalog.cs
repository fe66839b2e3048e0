using HubApi.Facilities;
using HubApi.Firms;
using HubApi.Indicators;
using HubApi.Industries;
using HubApi.Projects;
using HubApi.Resources;
using HubApi.Services;
using HubApi.Sources;
using HubApi.Targets;
using HubApi.Zones;

namespace HubApi;

/// <summary>The resources this service publishes, each described once in its feature folder.</summary>
public static class Catalog
{
    /// <summary>In dependency order (targets of relations first): the order the seed loads them.</summary>
    public static readonly ResourceCatalog Resources = new(
        SourcesApi.Resource,
        IndustriesApi.Resource,
        ZonesApi.Resource,
        FirmsApi.Resource,
        TargetsApi.Resource,
        ProjectsApi.Resource,
        FacilitiesApi.Resource,
        ServicesApi.Resource,
        IndicatorsApi.Resource)
    {
        Example = FirmsApi.Resource,
    };
}
