namespace HubApi.Tests;

/// <summary>
/// Tests that measure the real server under load (the soak's latency, memory and zero-5xx bars; the kill rounds'
/// restart times) run alone, not beside the rest of the suite competing for the same cores.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LoadCollection
{
    public const string Name = "Load and crash (run alone)";
}
