using System.Diagnostics;
using System.Net;
using Dapper;
using HubApi.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace HubApi.Tests;

public static class Faults
{
    public static string TempDatabase() => TestDatabase.NewName("fault");

    public static string IntegrityCheck(string path)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        return connection.ExecuteScalar<string>("pragma integrity_check")!;
    }

    /// <summary>
    /// Closes the pooled connections the service in this process held on the file. Only that file's pool: tests run in
    /// parallel, and clearing every pool would pull connections from under the others.
    /// </summary>
    public static void ClearPool(string path) => new SqliteDatabase($"Data Source={path}").ClearPool();

    public static void Delete(string path)
    {
        if (TestDatabase.Postgres)
        {
            TestDatabase.Drop(path);
            return;
        }
        ClearPool(path);
        foreach (var suffix in new[] { "", "-wal", "-shm" }) File.Delete(path + suffix);
    }
}

/// <summary>Faults of the storage and the process: each ends with the database sound and reads served.</summary>
[Trait("Provider", "Sqlite")]
public sealed class FaultTests(ITestOutputHelper output) : ApiTest
{
    private const string AdminKey = "fault-admin-key-0123456789";
    private static readonly Dictionary<string, string> WithAdminKey = new() { ["Auth__AdminKey"] = AdminKey };

    [Fact]
    public async Task WriteLockHeldByAnotherProcessDoesNotBlockReads()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/zones")).StatusCode);
        using (var locker = new SqliteConnection($"Data Source={Factory.DatabasePath};Pooling=False;Default Timeout=1"))
        {
            locker.Open();
            locker.Execute("begin immediate; update zones set name = name where id = 'lingang';");
            var clock = Stopwatch.StartNew();
            Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/zones/lingang")).StatusCode);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"took {clock.Elapsed}");
            locker.Execute("rollback");
        }
        Assert.Equal("ok", Faults.IntegrityCheck(Factory.DatabasePath));
    }

    [Fact]
    public async Task FileThatIsNotADatabaseStopsStartUpWithAClearMessage()
    {
        var path = Faults.TempDatabase();
        await File.WriteAllBytesAsync(path, [.. Enumerable.Range(0, 8192).Select(i => (byte)(i * 31))]);
        var (exitCode, output) = await ServerProcess.RunAsync(path);
        Assert.Equal(1, exitCode);
        Assert.Contains("cannot be used", output);
        Assert.Contains("not a database", output);
        Assert.DoesNotContain("   at ", output);
        Faults.Delete(path);
    }

    [Fact]
    public async Task BackupIsTakenOnlineAndRestoresToTheSameData()
    {
        var live = Faults.TempDatabase();
        var backup = live + ".backup";
        var restored = Faults.TempDatabase();
        string before;
        using (var server = await ServerProcess.StartAsync(live))
        {
            before = await server.Client.GetStringAsync("/v1/industries?limit=100");
            var reads = Enumerable.Range(0, 50).Select(_ => server.Client.GetStringAsync("/v1/zones")).ToList();
            var (exitCode, output) = await ServerProcess.RunAsync(live, "backup", backup);
            Assert.True(exitCode == 0, output);
            await Task.WhenAll(reads);
        }
        Assert.Equal("ok", Faults.IntegrityCheck(backup));

        var (restoreCode, restoreOutput) = await ServerProcess.RunAsync(restored, "restore", backup);
        Assert.True(restoreCode == 0, restoreOutput);
        using (var server = await ServerProcess.StartAsync(restored))
        {
            Assert.Equal(before, await server.Client.GetStringAsync("/v1/industries?limit=100"));
        }
        var (again, againOutput) = await ServerProcess.RunAsync(live, "backup", backup);
        Assert.Equal(1, again);
        Assert.Contains("never overwrite", againOutput);
        foreach (var path in new[] { live, backup, restored }) Faults.Delete(path);
    }

    [Fact]
    public async Task BackupTakenUnderWriteLoadHoldsEveryWriteAcknowledgedBeforeItBegan()
    {
        var live = Faults.TempDatabase();
        var backup = live + ".backup";
        var restored = Faults.TempDatabase();
        var load = new WriteLoad(AdminKey);
        Dictionary<string, long> before;
        int acknowledgedBefore, acknowledgedDuring;
        using (var server = await ServerProcess.StartAsync(live, WithAdminKey))
        {
            using var stop = new CancellationTokenSource();
            var writing = load.Run(server.Client, "b", 4, 20260107, stop.Token, ["zones/lingang", "services/bus-arrival-forecast"]);
            await Task.Delay(1000);
            before = load.Snapshot();
            acknowledgedBefore = load.AcknowledgedWrites;
            var (exitCode, backupOutput) = await ServerProcess.RunAsync(live, "backup", backup);
            acknowledgedDuring = load.AcknowledgedWrites - acknowledgedBefore;
            stop.Cancel();
            await writing;
            Assert.True(exitCode == 0, backupOutput);
            Assert.True(load.Unexpected.IsEmpty, string.Join("\n", load.Unexpected.Take(10)));
            Assert.True(acknowledgedDuring > 0, "writes went on while the backup was taken");
        }
        Assert.Equal("ok", Faults.IntegrityCheck(backup));
        Assert.Equal("ok", Faults.IntegrityCheck(live));

        var (restoreCode, restoreOutput) = await ServerProcess.RunAsync(restored, "restore", backup);
        Assert.True(restoreCode == 0, restoreOutput);
        Assert.Equal("ok", Faults.IntegrityCheck(restored));
        using (var server = await ServerProcess.StartAsync(restored))
        {
            // Every write acknowledged before the backup began, and a change feed that replays to the restored data.
            var current = await WriteLoad.AssertDurable(server.Client, before);
            output.WriteLine($"backup under load: {acknowledgedBefore} writes acknowledged before it began, all in the restored copy; " +
                             $"{acknowledgedDuring} more while it ran; the copy holds {current.Count} records.");
        }
        foreach (var path in new[] { live, backup, restored }) Faults.Delete(path);
    }

    [Fact]
    public async Task SigtermDuringWritesKeepsEveryAcknowledgedWrite()
    {
        var path = Faults.TempDatabase();
        var load = new WriteLoad(AdminKey);
        using (var server = await ServerProcess.StartAsync(path, WithAdminKey))
        {
            using var stop = new CancellationTokenSource();
            var writing = load.Run(server.Client, "t", 8, 20260107, stop.Token, ["zones/lingang", "services/bus-arrival-forecast"]);
            await Task.Delay(800);
            var exitCode = await server.TerminateAsync();
            stop.Cancel();
            await writing;
            Assert.Equal(0, exitCode);
            Assert.True(load.Unexpected.IsEmpty, string.Join("\n", load.Unexpected.Take(10)));
        }
        Assert.True(!File.Exists(path + "-wal") || new FileInfo(path + "-wal").Length == 0, "the WAL was checkpointed on shutdown");
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        using (var server = await ServerProcess.StartAsync(path, WithAdminKey))
        {
            var current = await WriteLoad.AssertDurable(server.Client, load.Snapshot());
            output.WriteLine($"SIGTERM during writes: {load.AcknowledgedWrites} writes acknowledged, all present after restart; " +
                             $"{load.Cut} writers cut off by the shutdown (refused or unanswered, never half-done); {current.Count} records.");
        }
        Faults.Delete(path);
    }

    [Fact]
    public async Task RestoreRefusesABackupThatIsNotSound()
    {
        var bad = Faults.TempDatabase();
        await File.WriteAllTextAsync(bad, "not a database at all");
        var target = Faults.TempDatabase();
        var (exitCode, output) = await ServerProcess.RunAsync(target, "restore", bad);
        Assert.Equal(1, exitCode);
        Assert.Contains("error:", output);
        Faults.Delete(bad);
        Faults.Delete(target);
    }

    [Fact]
    public async Task SigtermFinishesInFlightRequestsAndClosesTheDatabaseCleanly()
    {
        var path = Faults.TempDatabase();
        using (var server = await ServerProcess.StartAsync(path))
        {
            var inFlight = Enumerable.Range(0, 40).Select(i => server.Client.GetAsync($"/v1/industries?limit={i % 20 + 1}")).ToList();
            await Task.Delay(20);
            var exitCode = await server.TerminateAsync();
            Assert.Equal(0, exitCode);
            foreach (var request in inFlight)
            {
                // Requests the server accepted complete; ones sent after it stopped listening are refused, never cut.
                try { Assert.Equal(HttpStatusCode.OK, (await request).StatusCode); }
                catch (HttpRequestException) { }
            }
        }
        Assert.True(!File.Exists(path + "-wal") || new FileInfo(path + "-wal").Length == 0, "the WAL was checkpointed on shutdown");
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        Faults.Delete(path);
    }
}
