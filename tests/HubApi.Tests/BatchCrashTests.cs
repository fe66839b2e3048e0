using System.Diagnostics;
using System.Net;
using System.Text;
using Xunit.Abstractions;

namespace HubApi.Tests;

/// <summary>kill -9 while a batch of 10,000 rows is being written: after the restart it is all there or none of it.</summary>
/// <remarks>SQLite: the batch is one job of the group-commit queue. PostgreSQL's own transactions make the same promise.</remarks>
[Collection(LoadCollection.Name)]
[Trait("Provider", "Sqlite")]
public sealed class BatchCrashTests(ITestOutputHelper output)
{
    private const string AdminKey = "crash-admin-key-0123456789";

    [Fact]
    public async Task ABatchCutByKill9IsAllThereOrNoneOfIt()
    {
        var random = new Random(20261201);
        var path = Faults.TempDatabase();
        var environment = new Dictionary<string, string> { ["Auth__AdminKey"] = AdminKey };
        var outcomes = new List<string>();
        static string Batch(string prefix)
        {
            var body = new StringBuilder();
            for (var i = 0; i < 10_000; i++) body.Append($$"""{"id":"{{prefix}}-{{i}}","name":"Crash firm {{i}}","zone":"lingang","industries":["media"]}""").Append('\n');
            return body.ToString();
        }

        // How long a whole batch takes on this machine now, so that the kills below land before, during and after its commit.
        TimeSpan whole;
        using (var server = await ServerProcess.StartAsync(path, environment))
        {
            var clock = Stopwatch.StartNew();
            using var response = await server.Client.Send(HttpMethod.Post, "/v1/firms/batch", Batch("timed"), AdminKey, contentType: "application/x-ndjson");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            whole = clock.Elapsed;
        }
        outcomes.Add($"an uncut batch of 10,000 rows: {whole.TotalMilliseconds:0} ms");

        double[] fractions = [0.3, 0.6, 0.85, 1.0, 1.2];
        for (var round = 0; round < fractions.Length; round++)
        {
            var prefix = $"crash{round}";
            var body = Batch(prefix);

            bool acknowledged;
            using (var server = await ServerProcess.StartAsync(path, environment))
            {
                var sending = server.Client.Send(HttpMethod.Post, "/v1/firms/batch", body, AdminKey, contentType: "application/x-ndjson");
                await Task.Delay(whole * fractions[round] * (0.9 + 0.2 * random.NextDouble()));
                server.Kill();
                try
                {
                    acknowledged = (await sending).StatusCode == HttpStatusCode.OK;
                }
                catch (HttpRequestException)
                {
                    acknowledged = false;
                }
            }
            Assert.Equal("ok", Faults.IntegrityCheck(path));

            using (var server = await ServerProcess.StartAsync(path, environment))
            {
                var records = TestDatabase.Scalar<long>(path, $"select count(*) from firms where id like '{prefix}-%'");
                var feed = TestDatabase.Scalar<long>(path, $"select count(*) from changes where record_id like '{prefix}-%'");
                var versions = TestDatabase.Scalar<long>(path,
                    $"select count(*) from versions v join changes c on c.seq = v.seq where c.record_id like '{prefix}-%'");
                Assert.Contains(records, new long[] { 0, 10_000 });
                Assert.Equal((records, records), (feed, versions));
                if (acknowledged) Assert.Equal(10_000, records);
                var last = await server.Client.GetAsync($"/v1/firms/{prefix}-9999");
                Assert.Equal(records == 0 ? HttpStatusCode.NotFound : HttpStatusCode.OK, last.StatusCode);
                outcomes.Add($"round {round}: {(records == 0 ? "none" : "all")} ({(acknowledged ? "acknowledged" : "no answer")})");
            }
        }
        output.WriteLine(string.Join("\n", outcomes));
        Faults.Delete(path);
    }
}
