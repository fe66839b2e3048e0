namespace HubApi.Resources;

/// <summary>
/// The resources the service publishes, in dependency order (targets of relations first): the order the seed loads
/// them. Building the catalog links each relation to its target and each resource to the relations that point at it.
/// </summary>
public sealed class ResourceCatalog
{
    private readonly Dictionary<string, Resource> byName;

    public ResourceCatalog(params IReadOnlyList<Resource> resources)
    {
        All = resources;
        byName = resources.ToDictionary(r => r.Name, StringComparer.Ordinal);
        foreach (var resource in resources)
        {
            foreach (var relation in resource.Relations)
            {
                if (!byName.TryGetValue(relation.Target, out var target))
                    throw new InvalidOperationException($"{resource.Name}.{relation.Name} points at '{relation.Target}', which is not in the catalog.");
                relation.Link(target);
            }
            resource.ReferencedBy = [.. resources.SelectMany(owner => owner.Relations.Where(r => r.Target == resource.Name).Select(r => (owner, r)))];
        }
        if (resources.GroupBy(r => r.Code).FirstOrDefault(g => g.Count() > 1) is { } shared)
            throw new InvalidOperationException($"Resources {string.Join(", ", shared.Select(r => r.Name))} share the code {shared.Key}.");
    }

    public IReadOnlyList<Resource> All { get; }

    /// <summary>The resource whose example record illustrates what is not tied to one resource (a problem, a change).</summary>
    public required Resource Example { get; init; }

    public Resource? Get(string name) => byName.GetValueOrDefault(name);

    /// <summary>The resource whose records every citation points at.</summary>
    public Resource Sources => byName[Citation.SourceResource];
}
