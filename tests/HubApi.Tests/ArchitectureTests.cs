using NetArchTest.Rules;

namespace HubApi.Tests;

/// <summary>
/// Holds the layers of docs/architecture.md: each uses only those below it, the model knows nothing of the web or
/// of SQL, and only the storage layer speaks to a database driver.
/// </summary>
public sealed class ArchitectureTests
{
    /// <summary>The layers, lowest first; the features and the top-level wiring (Program, Cli, Catalog) stand above them all.</summary>
    private static readonly string[] Layers = ["HubApi.Observability", "HubApi.Resources", "HubApi.Query", "HubApi.Data", "HubApi.Http", "HubApi.OpenApi"];

    /// <summary>
    /// Everything above the layers, read off the assembly so that a new feature folder is never missed: each feature's
    /// namespace (HubApi.Zones, HubApi.Batches, ...) and the top-level wiring (HubApi.Catalog, HubApi.Cli, Program).
    /// </summary>
    private static readonly string[] Top =
    [
        .. typeof(Catalog).Assembly.GetTypes()
            .Where(t => !t.IsNested && !t.Name.StartsWith('<'))
            .Select(t => t.Namespace switch
            {
                null when t.Name == "Program" => t.Name,
                "HubApi" => t.FullName,
                { } ns when ns.StartsWith("HubApi.", StringComparison.Ordinal) && !Layers.Any(l => ns == l || ns.StartsWith(l + ".", StringComparison.Ordinal)) => ns,
                _ => null,
            })
            .OfType<string>().Distinct().Order(StringComparer.Ordinal),
    ];

    [Fact]
    public void EveryFeatureFolderStandsAboveTheLayers() =>
        Assert.Superset(new HashSet<string> { "HubApi.Zones", "HubApi.Changes", "HubApi.Batches", "HubApi.History", "HubApi.Import", "HubApi.Catalog", "Program" }, Top.ToHashSet());

    private static readonly string[] Drivers = ["Microsoft.Data.Sqlite", "SQLitePCL", "Dapper", "Npgsql"];

    public static TheoryData<string> LayerNames => [.. Layers];

    private static PredicateList Types(string layer) => NetArchTest.Rules.Types.InAssembly(typeof(Catalog).Assembly).That().ResideInNamespace(layer);

    private static void AssertNone(ConditionList rule, string what)
    {
        var result = rule.GetResult();
        Assert.True(result.IsSuccessful, what + ": " + string.Join(", ", result.FailingTypeNames ?? []));
    }

    [Theory]
    [MemberData(nameof(LayerNames))]
    public void ALayerUsesNoLayerAboveIt(string layer)
    {
        string[] above = [.. Layers.SkipWhile(l => l != layer).Skip(1), .. Top];
        AssertNone(Types(layer).ShouldNot().HaveDependencyOnAny(above), $"{layer} reaches up into {string.Join(", ", above)}");
    }

    [Fact]
    public void TheModelKnowsNothingOfTheWebOrOfSql() =>
        AssertNone(Types("HubApi.Resources").ShouldNot().HaveDependencyOnAny(["Microsoft.AspNetCore", "System.Data", .. Drivers]),
            "HubApi.Resources uses ASP.NET Core or a database");

    [Fact]
    public void OnlyTheStorageLayerUsesADatabaseDriver() =>
        AssertNone(NetArchTest.Rules.Types.InAssembly(typeof(Catalog).Assembly).That().DoNotResideInNamespace("HubApi.Data")
            .ShouldNot().HaveDependencyOnAny(Drivers), "SQL outside HubApi.Data");

    /// <summary>The rules above pass only if dependencies are seen at all: these are known to exist.</summary>
    [Theory]
    [InlineData("HubApi.Http", "HubApi.Data")]
    [InlineData("HubApi.Data", "Microsoft.Data.Sqlite")]
    [InlineData("HubApi.Data", "Npgsql")]
    [InlineData("HubApi.OpenApi", "HubApi.Resources")]
    [InlineData("HubApi.Data", "HubApi.Observability")]
    public void TheCheckerSeesDependencies(string layer, string dependency) =>
        Assert.False(Types(layer).ShouldNot().HaveDependencyOn(dependency).GetResult().IsSuccessful);
}
