using System.Diagnostics;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>
/// kill -9 under write load, many times over on one database file: no acknowledged write is ever lost, the change
/// feed always agrees with the data, and the file is sound after every kill.
/// </summary>
[Collection(LoadCollection.Name)]
[Trait("Provider", "Sqlite")]
public sealed class CrashTests(ITestOutputHelper output)
{
    private const string AdminKey = "crash-admin-key-0123456789";
    private const int Writers = 6;

    /// <summary>Kill rounds: 8 by default (about 20 s on an idle machine); HUBAPI_CRASH_ROUNDS=200 for a long run.</summary>
    private static int Rounds =>
        int.TryParse(Environment.GetEnvironmentVariable("HUBAPI_CRASH_ROUNDS"), out var rounds) && rounds > 0 ? rounds : 8;

    [Fact]
    public async Task AcknowledgedWritesSurviveRepeatedKill9()
    {
        var random = new Random(20260107);
        var path = Faults.TempDatabase();
        var environment = new Dictionary<string, string> { ["Auth__AdminKey"] = AdminKey };
        var load = new WriteLoad(AdminKey);
        var clock = Stopwatch.StartNew();
        int inDoubt = 0, inDoubtCommitted = 0, retried = 0;
        IReadOnlyDictionary<string, long> current = new Dictionary<string, long>();

        for (var round = 0; round <= Rounds; round++)
        {
            using var server = await ServerProcess.StartAsync(path, environment);
            // What the last kill left: every acknowledged write, and a feed that replays to the data.
            current = await WriteLoad.AssertDurable(server.Client, load.Snapshot());
            inDoubt += load.InDoubt.Count;
            inDoubtCommitted += load.InDoubt.Keys.Count(current.ContainsKey);
            // A partner retries a create that got no answer with the same Idempotency-Key: it gets the first answer
            // again when the create had committed, or the create now, never a duplicate or a conflict.
            foreach (var (key, create) in load.InDoubt.Where(d => d.Value.IdempotencyKey is not null))
            {
                using var retry = await server.Client.Send(HttpMethod.Post, create.Url, create.Body, AdminKey, idempotencyKey: create.IdempotencyKey);
                Assert.True(retry.StatusCode == System.Net.HttpStatusCode.Created, $"retry of {key}: {(int)retry.StatusCode} {await retry.Content.ReadAsStringAsync()}");
                Assert.Equal(current.ContainsKey(key), retry.Headers.Contains("Idempotent-Replayed"));
                load.Acknowledge(key, 1);
                retried++;
            }
            load.InDoubt.Clear();
            Assert.True(load.Unexpected.IsEmpty, string.Join("\n", load.Unexpected.Take(10)));
            if (round == Rounds)
            {
                current = await WriteLoad.AssertDurable(server.Client, load.Snapshot());
                break;
            }

            // Writers on their own records and on records others write too (earlier rounds' and seeded ones).
            List<string> shared = ["zones/lingang", "services/bus-arrival-forecast", .. current.Keys.Where(k => k.Contains("-w")).OrderBy(_ => random.Next()).Take(20)];
            using var stop = new CancellationTokenSource();
            var writing = load.Run(server.Client, $"r{round}", Writers, random.Next(), stop.Token, shared);
            await Task.Delay(random.Next(150, 900));
            server.Kill();
            stop.Cancel();
            await writing;
            Assert.Equal("ok", Faults.IntegrityCheck(path));
        }

        var summary = $"{Rounds} kill -9 rounds in {clock.Elapsed.TotalSeconds:0.0} s: {load.AcknowledgedWrites} writes acknowledged " +
                      $"({load.Created} creates, {load.Updated} merge-patches; {load.Stale} 412s retried), all present after every restart; " +
                      $"{inDoubt} creates cut off by the kills, {inDoubtCommitted} of those had committed, {retried} retried with their Idempotency-Key " +
                      $"(replayed if committed, else created); {current.Count} records, " +
                      "the change feed replaying to exactly them; integrity_check ok after every kill.";
        output.WriteLine(summary);
        Assert.True(load.AcknowledgedWrites > Rounds * 10, summary);
        Faults.Delete(path);
    }
}
