using System.Net;
using Dapper;

namespace HubApi.Tests;

public sealed class StartupTests : ApiTest
{
    private static readonly int MigrationCount =
        Directory.GetFiles(Path.Combine(Repo.Root, "db", TestDatabase.Postgres ? "postgres" : "migrations"), "*.sql").Length;

    [Fact]
    public async Task HealthEndpointsAnswer()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/health/live")).StatusCode);
        Assert.Equal("Healthy", await Client.GetStringAsync("/health/ready"));
    }

    [Fact]
    public async Task APortInUseStopsStartUpWithAClearLineAndExitCode1()
    {
        using var taken = new System.Net.Sockets.TcpListener(IPAddress.Loopback, 0);
        taken.Start();
        var url = $"http://127.0.0.1:{((IPEndPoint)taken.LocalEndpoint).Port}";
        var (exitCode, output) = await ServerProcess.RunAsync(Factory.DatabasePath, "--urls", url);
        // The host logs its failure (a JSON line, the trace inside it); the last word is ours, and no crash follows.
        Assert.Equal(1, exitCode);
        var last = output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Last();
        Assert.Contains("cannot listen", last);
        Assert.Contains("address already in use", last);
        Assert.DoesNotContain("Unhandled exception", output);
    }

    [Fact]
    public async Task StartingTwiceAppliesMigrationsAndSeedOnce()
    {
        var path = Factory.DatabasePath + ".twice.db";
        // An empty database (not a copy of the test template), so the service migrates and seeds it itself.
        using (var first = new HubApiFactory(path) { KeepDatabase = true, Empty = true }) await first.CreateClient().GetAsync("/health/ready");
        using var second = new HubApiFactory(path);
        using var client = second.CreateClient();
        Assert.Equal("Healthy", await client.GetStringAsync("/health/ready"));

        Assert.Equal(MigrationCount, second.Scalar<long>("select count(*) from schema_migrations"));
        Assert.Equal(3, second.Scalar<long>("select count(*) from zones"));
        Assert.Equal(1, second.Scalar<long>("select count(*) from changes where resource = 'zones' and record_id = 'lingang'"));
    }

    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task ReplicasStartingTogetherOnAnEmptyDatabaseMigrateAndSeedItOnce()
    {
        var database = Factory.DatabasePath + "_together";
        var replicas = Enumerable.Range(0, 3).Select(i => new HubApiFactory(database) { Empty = true, KeepDatabase = i > 0 }).ToList();
        TestDatabase.Create(database, empty: true);
        try
        {
            var ready = await Task.WhenAll(replicas.Select(r => Task.Run(() => r.CreateClient().GetStringAsync("/health/ready"))));
            Assert.All(ready, r => Assert.Equal("Healthy", r));
            Assert.Equal(MigrationCount, TestDatabase.Scalar<long>(database, "select count(*) from schema_migrations"));
            Assert.Equal(27, TestDatabase.Scalar<long>(database, "select count(*) from changes"));
        }
        finally
        {
            foreach (var replica in replicas.AsEnumerable().Reverse()) replica.Dispose();
        }
    }

    [Fact]
    public async Task DatabaseFromANewerBuildStopsStartUp()
    {
        var path = Factory.DatabasePath + ".newer.db";
        using (var first = new HubApiFactory(path) { KeepDatabase = true }) await first.CreateClient().GetAsync("/health/ready");
        TestDatabase.Execute(path, "insert into schema_migrations (version, applied_at) values ('9999_from_the_future', '2030-01-01T00:00:00.000Z')");
        var (exitCode, output) = await ServerProcess.RunAsync(path);
        Assert.Equal(1, exitCode);
        Assert.Contains("9999_from_the_future", output);
        Assert.Contains("does not know", output);
        Assert.DoesNotContain("   at ", output); // a message, not a stack trace
        Faults.Delete(path);
    }

    [Fact]
    [Trait("Provider", "Sqlite")]
    public async Task PragmasAreSetOnEveryConnection()
    {
        await Client.GetAsync("/health/ready");
        var store = (HubApi.Data.Sqlite.SqliteStore)Factory.Services.GetService(typeof(HubApi.Data.IStore))!;
        using var connection = store.Database.Open();
        Assert.Equal("wal", connection.ExecuteScalar<string>("pragma journal_mode"));
        Assert.Equal(1, connection.ExecuteScalar<long>("pragma foreign_keys"));
        Assert.Equal(2, connection.ExecuteScalar<long>("pragma synchronous")); // FULL
        Assert.True(connection.ExecuteScalar<long>("pragma busy_timeout") is > 0 and <= 5000);
    }
}
