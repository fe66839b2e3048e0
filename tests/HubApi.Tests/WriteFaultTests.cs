using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;
using Dapper;
using HubApi.Data.Sqlite;
using Microsoft.Data.Sqlite;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>
/// Faults of the storage under writes: a full disk, a read-only database, a write lock held by another process and a
/// partly corrupted file. Each write is refused with a 5xx problem that says what happened (never a 500, never a
/// hang), reads go on being served, and the database is sound afterwards.
/// </summary>
[Trait("Provider", "Sqlite")]
public sealed class WriteFaultTests(ITestOutputHelper output)
{
    private const string AdminKey = "fault-admin-key-0123456789";
    private static readonly Dictionary<string, string> WithAdminKey = new() { ["Auth__AdminKey"] = AdminKey };

    /// <summary>A seeded database, checkpointed and closed: the whole content is in the file.</summary>
    private static async Task<string> SeededDatabase(string? path = null)
    {
        path ??= Faults.TempDatabase();
        using (var factory = new HubApiFactory(path) { KeepDatabase = true })
        using (var client = factory.CreateClient())
        {
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/ready")).StatusCode);
        }
        // The service folds its WAL into the file as it stops. Program's own RunAsync stops the host as well, and of two
        // stops the second returns once the first has begun the stopped handlers: wait for the fold, not the dispose.
        var waited = Stopwatch.StartNew();
        while (File.Exists(path + "-wal") && new FileInfo(path + "-wal").Length > 0 && waited.Elapsed < TimeSpan.FromSeconds(10))
            await Task.Delay(20);
        Faults.ClearPool(path);
        return path;
    }

    private static long Scalar(string path, string sql)
    {
        using var connection = new SqliteConnection($"Data Source={path};Pooling=False");
        return connection.ExecuteScalar<long>(sql);
    }

    /// <summary>A record as large as validation allows (a 2,000-character description), different each time.</summary>
    private static string Big(int i) =>
        $$"""{"name":"Full disk {{i}}","description":"{{string.Concat(Enumerable.Range(0, 400).Select(j => $"{(i * 7919 + j * 104729) % 99991:00000}"))}}"}""";

    private static async Task AssertReadsServed(HttpClient client)
    {
        foreach (var url in new[] { "/v1/zones", "/v1/firms?include=zone&limit=5", "/v1/services/bus-arrival-forecast", "/v1/changes?limit=5", "/health/ready" })
        {
            using var response = await client.GetAsync(url);
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"GET {url}: {(int)response.StatusCode}");
        }
    }

    [Fact]
    public async Task AFullDiskRefusesWritesWith507AndLeavesReadsAndTheDataIntact()
    {
        var path = await SeededDatabase();
        var pages = Scalar(path, "pragma page_count");
        var changes = Scalar(path, "select count(*) from changes");
        var accepted = new List<string>();
        // Room for some of these 2 KB records, then the cap is reached.
        using (var factory = new HubApiFactory(path) { KeepDatabase = true }.With("Auth:AdminKey", AdminKey).With("Database:MaxPageCount", $"{pages + 20}"))
        using (var client = factory.CreateClient())
        {
            HttpResponseMessage? full = null;
            for (var i = 0; i < 500 && full is null; i++)
            {
                var response = await client.Send(HttpMethod.Post, "/v1/services", Big(i), AdminKey);
                if (response.StatusCode == HttpStatusCode.Created) accepted.Add($"full-disk-{i}");
                else full = response;
            }
            Assert.NotNull(full);
            var problem = await full.AssertProblem(HttpStatusCode.InsufficientStorage);
            Assert.NotNull(full.Headers.RetryAfter);
            output.WriteLine($"cap {pages + 20} pages: {accepted.Count} writes accepted, then 507: {problem["detail"]}");
            Assert.NotEmpty(accepted);

            // Further writes meet the same full disk: refused alike, never with a 500, the record left as it was.
            var etag = await client.ETag("/v1/services/bus-arrival-forecast");
            for (var i = 0; i < 5; i++)
            {
                using var response = await client.Send(HttpMethod.Post, "/v1/services", Big(1000 + i), AdminKey);
                await response.AssertProblem(HttpStatusCode.InsufficientStorage);
            }
            await AssertReadsServed(client);
            foreach (var id in accepted) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/services/{id}")).StatusCode);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/v1/services/full-disk-{accepted.Count}")).StatusCode);
        }
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        // Nothing of the refused writes was kept, not even a change-feed row.
        Assert.Equal(changes + accepted.Count, Scalar(path, "select count(*) from changes"));

        // With room again (the cap lifted), writes succeed.
        using (var factory = new HubApiFactory(path) { KeepDatabase = true }.With("Auth:AdminKey", AdminKey))
        using (var client = factory.CreateClient())
        {
            (await client.Send(HttpMethod.Post, "/v1/services", Big(99), AdminKey)).EnsureSuccessStatusCode();
        }
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        Faults.Delete(path);
    }

    /// <summary>
    /// Writes that arrive together share one commit (group commit). When the disk fills under a burst of them, each is
    /// answered 201 or 507, never 500; every 201 is stored and every 507 is not, even where one write's full disk undid
    /// the transaction it shared with others.
    /// </summary>
    [Fact]
    public async Task ABurstOfWritesOnAFillingDiskKeepsExactlyTheAcknowledgedOnes()
    {
        var path = await SeededDatabase();
        var pages = Scalar(path, "pragma page_count");
        var changes = Scalar(path, "select count(*) from changes");
        HttpStatusCode[] answers;
        using (var factory = new HubApiFactory(path) { KeepDatabase = true }.With("Auth:AdminKey", AdminKey).With("Database:MaxPageCount", $"{pages + 30}"))
        using (var client = factory.CreateClient())
        {
            var writes = Enumerable.Range(0, 80).Select(async i =>
            {
                using var response = await client.Send(HttpMethod.Post, "/v1/services", Big(i), AdminKey);
                if (response.StatusCode != HttpStatusCode.Created) await response.AssertProblem(HttpStatusCode.InsufficientStorage);
                return response.StatusCode;
            });
            answers = await Task.WhenAll(writes);
            output.WriteLine($"{answers.Count(a => a == HttpStatusCode.Created)} of 80 concurrent writes stored before the cap, the rest 507");
            Assert.Contains(HttpStatusCode.Created, answers);
            Assert.Contains(HttpStatusCode.InsufficientStorage, answers);
        }

        // A fresh process: what was acknowledged is on disk, what was refused left nothing behind.
        using (var factory = new HubApiFactory(path) { KeepDatabase = true })
        using (var client = factory.CreateClient())
        {
            for (var i = 0; i < answers.Length; i++)
            {
                var expected = answers[i] == HttpStatusCode.Created ? HttpStatusCode.OK : HttpStatusCode.NotFound;
                Assert.Equal(expected, (await client.GetAsync($"/v1/services/full-disk-{i}")).StatusCode);
            }
        }
        Assert.Equal(changes + answers.Count(a => a == HttpStatusCode.Created), Scalar(path, "select count(*) from changes"));
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        Faults.Delete(path);
    }

    /// <summary>
    /// A real full file system (a 1 MiB tmpfs above the database's size): SQLite sees ENOSPC while appending to the WAL.
    /// Needs the right to mount (root with CAP_SYS_ADMIN); elsewhere the test says so and passes.
    /// </summary>
    [Fact]
    public async Task ARealFullFileSystemRefusesWritesWith507()
    {
        var mount = Path.Combine(Path.GetTempPath(), $"hubapi-tmpfs-{Guid.NewGuid():N}");
        Directory.CreateDirectory(mount);
        var seeded = await SeededDatabase();
        var size = new FileInfo(seeded).Length + 1024 * 1024;
        if (!Run("mount", "-t", "tmpfs", "-o", $"size={size}", "hubapi-test", mount))
        {
            output.WriteLine("Cannot mount a tmpfs here (not root or no CAP_SYS_ADMIN): the MaxPageCount test covers a full disk.");
            Directory.Delete(mount);
            Faults.Delete(seeded);
            return;
        }
        try
        {
            var path = Path.Combine(mount, "hub.db");
            File.Copy(seeded, path);
            var accepted = 0;
            using (var factory = new HubApiFactory(path) { KeepDatabase = true }.With("Auth:AdminKey", AdminKey))
            using (var client = factory.CreateClient())
            {
                HttpResponseMessage? full = null;
                for (var i = 0; i < 2000 && full is null; i++)
                {
                    var response = await client.Send(HttpMethod.Post, "/v1/services", Big(i), AdminKey);
                    if (response.StatusCode == HttpStatusCode.Created) accepted++;
                    else full = response;
                }
                Assert.NotNull(full);
                var problem = await full.AssertProblem(HttpStatusCode.InsufficientStorage);
                output.WriteLine($"tmpfs of {size / 1024} KiB: {accepted} writes accepted, then 507: {problem["detail"]}");
                await AssertReadsServed(client);
                for (var i = 0; i < accepted; i++) Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/services/full-disk-{i}")).StatusCode);
            }
            Assert.Equal("ok", Faults.IntegrityCheck(path));
            Faults.ClearPool(path);
        }
        finally
        {
            Run("umount", "-l", mount);
            Directory.Delete(mount, recursive: true);
            Faults.Delete(seeded);
        }
    }

    private static bool Run(string file, params string[] args)
    {
        try
        {
            using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
            process.WaitForExit();
            return process.ExitCode == 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }

    /// <summary>
    /// A database SQLite can only read (opened read-only, as it does when it may not write the file): every write gets
    /// SQLITE_READONLY and is answered 503 problem, while reads go on.
    /// </summary>
    [Fact]
    public async Task AReadOnlyDatabaseRefusesWritesWith503AndServesReads()
    {
        var path = await SeededDatabase();
        var changes = Scalar(path, "select count(*) from changes");
        using (var factory = new HubApiFactory(path) { KeepDatabase = true }.With("Auth:AdminKey", AdminKey).With("ConnectionStrings:Hub", $"Data Source={path};Mode=ReadOnly"))
        using (var client = factory.CreateClient())
        {
            await AssertReadsServed(client);
            var etag = await client.ETag("/v1/zones/lingang");
            var writes = new[]
            {
                await client.Send(HttpMethod.Post, "/v1/services", """{"name":"Read only"}""", AdminKey),
                await client.Send(HttpMethod.Patch, "/v1/zones/lingang", """{"description":"x"}""", AdminKey, etag, Writes.MergePatch),
                await client.Send(HttpMethod.Put, "/v1/zones/lingang", """{"name":"Lingang"}""", AdminKey, etag),
                await client.Send(HttpMethod.Delete, "/v1/services/bus-arrival-forecast", null, AdminKey, "*"),
            };
            foreach (var response in writes)
            {
                var problem = await response.AssertProblem(HttpStatusCode.ServiceUnavailable);
                Assert.Contains("read-only", problem["detail"]!.GetValue<string>());
                Assert.NotNull(response.Headers.RetryAfter);
            }
            await AssertReadsServed(client);
            Assert.Equal(etag, await client.ETag("/v1/zones/lingang"));
        }
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        Assert.Equal(changes, Scalar(path, "select count(*) from changes"));
        Faults.Delete(path);
    }

    /// <summary>
    /// Another process holds the write lock (BEGIN IMMEDIATE): writes wait out the busy time-out and are answered
    /// 503 + Retry-After, never hang; reads are served meanwhile; once the lock goes, writes succeed.
    /// </summary>
    [Fact]
    public async Task AWriteLockHeldByAnotherProcessAnswersWrites503WithinTheBusyTimeOut()
    {
        var path = Faults.TempDatabase();
        using (var server = await ServerProcess.StartAsync(path, WithAdminKey))
        {
            var client = server.Client;
            (await client.Send(HttpMethod.Post, "/v1/services", """{"name":"Before the lock"}""", AdminKey)).EnsureSuccessStatusCode();
            using (var locker = new SqliteConnection($"Data Source={path};Pooling=False"))
            {
                locker.Open();
                locker.Execute("begin immediate; update zones set name = name where id = 'lingang';");

                var clock = Stopwatch.StartNew();
                var etag = await client.ETag("/v1/zones/lingang");
                var writes = Enumerable.Range(0, 6).Select(async i =>
                {
                    var started = clock.Elapsed;
                    using var response = i % 2 == 0
                        ? await client.Send(HttpMethod.Post, "/v1/services", $$"""{"name":"Locked {{i}}"}""", AdminKey)
                        : await client.Send(HttpMethod.Patch, "/v1/zones/lingang", $$"""{"description":"locked {{i}}"}""", AdminKey, etag, Writes.MergePatch);
                    var took = clock.Elapsed - started;
                    await response.AssertProblem(HttpStatusCode.ServiceUnavailable);
                    Assert.Equal(TimeSpan.FromSeconds(1), response.Headers.RetryAfter?.Delta);
                    return took;
                }).ToList();

                // Reads go on while the writes wait for the lock.
                var reads = new List<TimeSpan>();
                while (!writes.All(w => w.IsCompleted))
                {
                    var started = clock.Elapsed;
                    Assert.Equal(HttpStatusCode.OK, (await client.GetAsync($"/v1/firms?limit={reads.Count % 20 + 1}")).StatusCode);
                    reads.Add(clock.Elapsed - started);
                    await Task.Delay(50);
                }
                var waits = await Task.WhenAll(writes);
                output.WriteLine($"writes under a held lock: 503 after {string.Join(", ", waits.Select(w => $"{w.TotalMilliseconds:0} ms"))}; " +
                                 $"{reads.Count} reads meanwhile, slowest {reads.Max().TotalMilliseconds:0} ms");
                // A write waits at most 2 s for its turn behind this process's writes and 1 s for the other process's lock:
                // the first in line is answered after 1 s, the next after 2 s, one more may take 3 s, never a hang.
                Assert.All(waits, w => Assert.InRange(w, SqliteDatabase.LockTimeout * 0.9, SqliteDatabase.BusyTimeout + SqliteDatabase.LockTimeout + TimeSpan.FromSeconds(1)));
                Assert.True(reads.Max() < TimeSpan.FromSeconds(1.5), $"slowest read {reads.Max()}"); // a read never waits for the lock
                locker.Execute("rollback");
            }
            (await client.Send(HttpMethod.Post, "/v1/services", """{"name":"After the lock"}""", AdminKey)).EnsureSuccessStatusCode();
            var etagAfter = await client.ETag("/v1/zones/lingang");
            (await client.Send(HttpMethod.Patch, "/v1/zones/lingang", """{"description":"after"}""", AdminKey, etagAfter, Writes.MergePatch)).EnsureSuccessStatusCode();
        }
        Assert.Equal("ok", Faults.IntegrityCheck(path));
        Assert.Equal(0, Scalar(path, "select count(*) from services where name like 'Locked%'"));
        Faults.Delete(path);
    }

    /// <summary>The garbage a damaged disk leaves: fixed pseudo-random bytes.</summary>
    private static void Garble(FileStream file, long page, int pageSize, Random random, int from = 0)
    {
        var bytes = new byte[pageSize - from];
        random.NextBytes(bytes);
        file.Position = (page - 1) * pageSize + from;
        file.Write(bytes);
    }

    /// <summary>
    /// A file with a valid SQLite header and garbage pages: either start-up refuses it with a clear message, or the
    /// service answers every request with sound JSON or a 503 problem, never a 500 and never garbage.
    /// </summary>
    [Theory]
    [InlineData("schema")]      // page 1 after the 100-byte header: the schema itself
    [InlineData("every-table")] // every page but the first
    [InlineData("some-tables")] // the root pages of tables start-up never reads
    public async Task APartlyCorruptDatabaseFailsStartUpClearlyOrIsAnswered503(string damage)
    {
        var path = await SeededDatabase();
        Assert.True(!File.Exists(path + "-wal") || new FileInfo(path + "-wal").Length == 0);
        var pageSize = (int)Scalar(path, "pragma page_size");
        var pageCount = Scalar(path, "pragma page_count");
        List<long> roots;
        using (var connection = new SqliteConnection($"Data Source={path};Pooling=False"))
            roots = [.. connection.Query<long>("select rootpage from sqlite_schema where tbl_name in ('citations', 'changes', 'zone_industries', 'firm_industries') and rootpage > 0")];
        Faults.ClearPool(path);
        File.Delete(path + "-shm");
        File.Delete(path + "-wal");

        var random = new Random(7);
        using (var file = new FileStream(path, FileMode.Open, FileAccess.ReadWrite))
        {
            switch (damage)
            {
                case "schema": Garble(file, 1, pageSize, random, from: 100); break;
                case "every-table": for (var page = 2; page <= pageCount; page++) Garble(file, page, pageSize, random); break;
                case "some-tables": foreach (var page in roots) Garble(file, page, pageSize, random); break;
            }
        }

        ServerProcess server;
        try
        {
            server = await ServerProcess.StartAsync(path, WithAdminKey);
        }
        catch (InvalidOperationException e)
        {
            output.WriteLine($"{damage}: start-up refused:\n{e.Message}");
            Assert.Contains("cannot be used", e.Message);
            Assert.Contains("malformed", e.Message);
            Assert.DoesNotContain("   at ", e.Message);
            Assert.NotEqual("some-tables", damage); // start-up reads none of those tables: it must come up
            Faults.Delete(path);
            return;
        }

        using (server)
        {
            var statuses = new Dictionary<int, int>();
            var urls = new List<string> { "/v1/zones", "/v1/zones/lingang", "/v1/zones/zhangjiang/firms", "/v1/firms?include=zone,industries", "/v1/firms/smic",
                "/v1/industries?zone=lingang", "/v1/changes", "/v1/sources?fields=id,name", "/v1/targets?q=digital", "/v1/services", "/health/ready" };
            foreach (var resource in new[] { "sources", "zones", "industries", "firms", "targets", "projects", "facilities", "services", "indicators" })
                urls.Add($"/v1/{resource}?limit=100");
            foreach (var url in urls)
            {
                using var response = await server.Client.GetAsync(url);
                await AssertSoundOr503(response, $"GET {url}");
                statuses[(int)response.StatusCode] = statuses.GetValueOrDefault((int)response.StatusCode) + 1;
            }
            using (var write = await server.Client.Send(HttpMethod.Post, "/v1/firms", """{"name":"Corrupt","zone":"lingang","industries":["artificial-intelligence"]}""", AdminKey))
            {
                await AssertSoundOr503(write, "POST /v1/firms");
                statuses[(int)write.StatusCode] = statuses.GetValueOrDefault((int)write.StatusCode) + 1;
            }
            output.WriteLine($"{damage}: served, answers {string.Join(", ", statuses.Select(s => $"{s.Value}× {s.Key}"))}");
            Assert.True(statuses.GetValueOrDefault(503) > 0, "the damage was met by some request");
            Assert.Contains("Database fault", server.Output);
        }
        Faults.Delete(path);
    }

    private static async Task AssertSoundOr503(HttpResponseMessage response, string what)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable,
            $"{what}: {(int)response.StatusCode} {body}");
        if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
        {
            if (response.RequestMessage!.RequestUri!.AbsolutePath != "/health/ready") await response.AssertProblem(HttpStatusCode.ServiceUnavailable);
        }
        else if (response.RequestMessage!.RequestUri!.AbsolutePath != "/health/ready")
        {
            var json = JsonNode.Parse(body); // sound JSON, not garbage
            Assert.NotNull(json);
        }
    }
}
