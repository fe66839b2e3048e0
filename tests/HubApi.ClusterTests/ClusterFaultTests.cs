using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json.Nodes;

namespace HubApi.ClusterTests;

public sealed partial class ClusterTests
{
    /// <summary>What a writer saw acknowledged: the change it made, as the feed should list it (a delete's version unknown).</summary>
    private sealed record Acknowledged(string Id, string Op, long? Version);

    [ClusterFact, Order(5)]
    public async Task ConcurrentWritersOnBothReplicasLeaveAFeedThatReplaysToWhatIsServed()
    {
        var seed = Environment.TickCount;
        output.WriteLine($"seed {seed}");
        var tag = Tag();
        var start = await cluster.A.LastSeq();
        var acknowledged = new ConcurrentQueue<Acknowledged>();
        var pool = new ConcurrentDictionary<string, byte>();
        var statuses = new ConcurrentDictionary<int, int>();
        var until = DateTime.UtcNow.AddSeconds(4);

        async Task Writer(HttpClient client, int writer)
        {
            var random = new Random(seed + writer);
            for (var n = 0; DateTime.UtcNow < until; n++)
            {
                var known = pool.Keys.ToArray();
                var roll = random.Next(100);
                if (roll < 40 || known.Length < 4)
                {
                    using var created = await client.Post("/v1/services", $$"""{"name":"Prop {{tag}} {{writer}} {{n}}"}""");
                    statuses.AddOrUpdate((int)created.StatusCode, 1, (_, c) => c + 1);
                    if (created.StatusCode != HttpStatusCode.Created) continue;
                    var record = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
                    acknowledged.Enqueue(new(IdOf(record), "created", record["version"]!.GetValue<long>()));
                    pool[IdOf(record)] = 0;
                    continue;
                }
                var id = known[random.Next(known.Length)];
                using var current = await client.GetAsync("/v1/services/" + id);
                if (current.StatusCode != HttpStatusCode.OK) { statuses.AddOrUpdate((int)current.StatusCode, 1, (_, c) => c + 1); continue; }
                var etag = current.Headers.ETag!.Tag;
                if (roll < 85)
                {
                    using var patched = await client.Patch("/v1/services/" + id, $$"""{"figure":"{{writer}} {{n}}"}""", etag);
                    statuses.AddOrUpdate((int)patched.StatusCode, 1, (_, c) => c + 1);
                    if (patched.StatusCode == HttpStatusCode.OK)
                        acknowledged.Enqueue(new(id, "updated", JsonNode.Parse(await patched.Content.ReadAsStringAsync())!["version"]!.GetValue<long>()));
                }
                else
                {
                    using var deleted = await client.Send(HttpMethod.Delete, "/v1/services/" + id, ifMatch: etag);
                    statuses.AddOrUpdate((int)deleted.StatusCode, 1, (_, c) => c + 1);
                    if (deleted.StatusCode == HttpStatusCode.NoContent) acknowledged.Enqueue(new(id, "deleted", null));
                }
            }
        }

        // A poller reading the feed as partners do, from one replica then the other, while the writers run.
        var polled = new List<Change>();
        var writersDone = false;
        var poller = Task.Run(async () =>
        {
            var last = start;
            for (var i = 0; ; i++)
            {
                var finished = Volatile.Read(ref writersDone);
                var page = await (i % 2 == 0 ? cluster.A : cluster.B).Changes(last);
                polled.AddRange(page);
                if (page.Count > 0) last = page[^1].Seq;
                if (finished) return;
                await Task.Delay(10);
            }
        });
        HttpClient[] clients = [cluster.A, cluster.A, cluster.B, cluster.B, cluster.Nginx, cluster.Nginx];
        await Task.WhenAll(clients.Select((client, i) => Writer(client, i)));
        Volatile.Write(ref writersDone, true);
        await poller;
        output.WriteLine($"{acknowledged.Count} acknowledged changes; statuses {string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}: {s.Value}"))}");
        Assert.All(statuses.Keys, status => Assert.Contains(status, new[] { 200, 201, 204, 404, 412, 503 }));

        var feed = await cluster.B.Changes(start);
        // The poller skipped nothing and saw nothing twice, though commits raced on two replicas.
        Assert.Equal(feed.Select(c => c.Seq), polled.Select(c => c.Seq));
        Assert.True(feed.Zip(feed.Skip(1)).All(p => p.First.Seq < p.Second.Seq), "seq not increasing");

        // Every acknowledged change exactly once; nothing that was not acknowledged.
        var ours = feed.Where(c => c.Resource == "services" && pool.ContainsKey(c.Id)).ToList();
        foreach (var change in acknowledged)
        {
            var times = ours.Count(c => c.Id == change.Id && c.Op == change.Op && (change.Version is null || c.Version == change.Version));
            Assert.True(times == 1, $"{change} is listed {times} times");
        }
        Assert.Equal(acknowledged.Count, ours.Count);
        // Each record's changes in order: created at version 1, one version more each time, deleted last.
        foreach (var record in ours.GroupBy(c => c.Id))
        {
            var versions = record.Select(c => c.Version).ToList();
            Assert.Equal(Enumerable.Range(1, versions.Count).Select(v => (long)v), versions);
            Assert.Equal("created", record.First().Op);
            Assert.DoesNotContain("deleted", record.SkipLast(1).Select(c => c.Op));
        }

        // Replayed, the feed gives exactly what both replicas serve, record by record and as a list.
        var replayed = ours.GroupBy(c => c.Id).Select(g => g.Last()).ToDictionary(c => c.Id);
        foreach (var client in new[] { cluster.A, cluster.B })
        {
            foreach (var (id, last) in replayed)
            {
                await Http.Eventually(async () =>
                {
                    using var response = await client.GetAsync("/v1/services/" + id);
                    return last.Op == "deleted"
                        ? response.StatusCode == HttpStatusCode.NotFound
                        : response.StatusCode == HttpStatusCode.OK
                          && JsonNode.Parse(await response.Content.ReadAsStringAsync())!["version"]!.GetValue<long>() == last.Version;
                }, Bound, $"{client.BaseAddress}v1/services/{id} as the feed has it ({last.Op}, version {last.Version})");
            }
        }
        var listed = new List<string>();
        for (string? cursor = null; ;)
        {
            var page = await cluster.Nginx.Json($"/v1/services?q={tag}&limit=100" + (cursor is null ? "" : "&cursor=" + Uri.EscapeDataString(cursor)));
            listed.AddRange(page["items"]!.AsArray().Select(IdOf));
            if ((cursor = page["next"]?.GetValue<string>()) is null) break;
        }
        Assert.Equal(replayed.Values.Where(c => c.Op != "deleted").Select(c => c.Id).Order(), listed.Order());
    }

    [ClusterFact, Order(6)]
    public async Task KillingAReplicaUnderWritesLosesNothingAcknowledged()
    {
        var tag = Tag();
        var acknowledged = new ConcurrentDictionary<string, string>();
        var statuses = new ConcurrentBag<string>();
        var until = DateTime.UtcNow.AddSeconds(3);
        async Task Writer(HttpClient client, string name)
        {
            for (var n = 0; DateTime.UtcNow < until; n++)
            {
                try
                {
                    using var response = await client.Post("/v1/services", $$"""{"name":"Kill {{tag}} {{name}} {{n}}"}""");
                    statuses.Add($"{name} {(int)response.StatusCode}");
                    if (response.StatusCode == HttpStatusCode.Created) acknowledged[IdOf(JsonNode.Parse(await response.Content.ReadAsStringAsync()))] = name;
                }
                catch (HttpRequestException)
                {
                    statuses.Add($"{name} connection lost"); // never acknowledged
                    await Task.Delay(20);
                }
            }
        }
        var writers = new[] { Writer(cluster.A, "A1"), Writer(cluster.A, "A2"), Writer(cluster.Nginx, "nginx"), Writer(cluster.B, "B") };
        await Task.Delay(1000);
        var before = acknowledged.Values.Count(v => v.StartsWith('A'));
        cluster.Kill(1);
        await Task.WhenAll(writers);

        Assert.True(before > 0, "replica 1 acknowledged nothing before it was killed");
        Assert.All(statuses, s => Assert.Matches(@"^(A\d (201|503|connection lost)|nginx (201|502|503)|B (201|503))$", s));
        var stored = new HashSet<string>();
        using (var connection = cluster.Open())
        using (var command = new Npgsql.NpgsqlCommand($"select id from services where name like 'Kill {tag} %'", connection))
        using (var reader = command.ExecuteReader())
            while (reader.Read()) stored.Add(reader.GetString(0));
        Assert.Empty(acknowledged.Keys.Except(stored));
        output.WriteLine($"{acknowledged.Count} acknowledged ({before} by replica 1 before the kill), {stored.Count} stored");

        cluster.Do("restart-replica", "1");
        foreach (var id in acknowledged.Keys) await (await cluster.A.GetAsync("/v1/services/" + id)).Expect(HttpStatusCode.OK);
    }

    [ClusterFact, Order(7)]
    public async Task NginxNeverSendsAWriteToASecondReplicaWhenTheFirstDiesMidRequest()
    {
        const string zone = "/v1/zones/west-bund";
        var tag = Tag();
        (string Name, Func<string, Task<HttpResponseMessage>> Send)[] writes =
        [
            ("PATCH", etag => cluster.Nginx.Patch(zone, $$"""{"description":"{{tag}}"}""", etag)),
            ("POST", _ => cluster.Nginx.Post("/v1/firms", $$"""{"name":"Firm {{tag}}","zone":"west-bund"}""")),
        ];
        foreach (var (name, send) in writes)
        {
            var etag = await cluster.Nginx.ETag(zone);
            var after = await cluster.A.LastSeq();
            int replica;
            HttpResponseMessage response;
            // The zone row locked behind the service's back: the write waits for it inside whichever replica nginx chose.
            using (var holder = cluster.Open())
            using (var transaction = holder.BeginTransaction())
            {
                using (var lockRow = new Npgsql.NpgsqlCommand("select 1 from zones where id = 'west-bund' for update", holder, transaction)) lockRow.ExecuteScalar();
                var request = send(etag);
                replica = await WaitingReplica();
                cluster.Kill(replica);
                transaction.Rollback();
                response = await request;
            }
            using (response)
            {
                // nginx answers the client 502 rather than trying the other replica: the write happened at most once.
                Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
            }
            await Task.Delay(500); // long enough for a retried write to have committed
            var other = replica == 1 ? cluster.B : cluster.A;
            Assert.DoesNotContain(await other.Changes(after), c => c.Id == "west-bund" || c.Id.StartsWith("firm-" + tag));
            Assert.Equal(etag, await other.ETag(zone));
            output.WriteLine($"{name} on replica {replica}: 502, written nowhere");
            cluster.Do("restart-replica", replica.ToString());
        }
    }

    /// <summary>The replica whose request waits for a lock, by the application name cluster.sh gives its connections.</summary>
    private async Task<int> WaitingReplica()
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            var name = cluster.Scalar<string>(
                "select coalesce(max(application_name), '') from pg_stat_activity where wait_event_type = 'Lock' and application_name like 'hubapi-%'");
            if (name.Length > 0) return int.Parse(name["hubapi-".Length..]);
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), "no replica's request waits for the lock");
            await Task.Delay(20);
        }
    }

    [ClusterFact, Order(8)]
    public async Task AReplicaWhoseListenerConnectionIsEndedFlushesItsCacheAndListensAgain()
    {
        const string zone = "/v1/zones/west-bund";
        var name = (await cluster.B.Json(zone))["name"]!.GetValue<string>();
        var renamed = "West Bund " + Tag();
        // Behind every replica's back: no feed row, no notification, so B keeps serving its cached answer ...
        using (var connection = cluster.Open())
        using (var rename = new Npgsql.NpgsqlCommand($"update zones set name = '{renamed}' where id = 'west-bund'", connection)) rename.ExecuteNonQuery();
        await Task.Delay(300);
        Assert.Equal(name, (await cluster.B.Json(zone))["name"]!.GetValue<string>());

        // ... until its listener's connection ends: it cannot know what it missed, so it forgets everything.
        var listener = Listener("hubapi-2");
        Assert.True(listener > 0, "replica 2 has no listener connection");
        Assert.True(cluster.Scalar<bool>($"select pg_terminate_backend({listener})"));
        // Npgsql takes the broken connection for the server being down and, with several hosts, finds no server for Host
        // Recheck Seconds (1 in cluster.sh): B answers 503 meanwhile, then the renamed zone.
        var flushed = await Http.Eventually(async () =>
        {
            using var response = await cluster.B.GetAsync(zone);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"B answered {(int)response.StatusCode}");
            return response.StatusCode == HttpStatusCode.OK && JsonNode.Parse(await response.Content.ReadAsStringAsync())!["name"]!.GetValue<string>() == renamed;
        }, TimeSpan.FromSeconds(5), "B's cache flushed");
        await Http.Eventually(() => Task.FromResult(Listener("hubapi-2") is var again && again > 0 && again != listener), TimeSpan.FromSeconds(10), "B listening again");

        // Listening again, B follows A's writes as before.
        using (var patched = await cluster.A.Patch(zone, """{"name":"West Bund"}""", await cluster.A.ETag(zone))) await patched.Expect(HttpStatusCode.OK);
        var followed = await Http.Eventually(async () => (await cluster.B.Json(zone))["name"]!.GetValue<string>() == "West Bund", Bound, "A's write on B");
        output.WriteLine($"cache flushed {flushed.TotalMilliseconds:F0} ms after the listener's connection ended; a later write on A served by B after {followed.TotalMilliseconds:F0} ms");
    }

    /// <summary>The backend pid of the replica's change listener (0 when there is none): the connection that LISTENs.</summary>
    private int Listener(string replica) => cluster.Scalar<int>($"""
        select coalesce(max(pid), 0) from pg_stat_activity where application_name = '{replica}'
          and (query like 'listen %' or query like 'select seq, resource, record_id from changes%' or query like 'select coalesce(max(seq), 0)%')
        """);

    [ClusterFact, Order(9)]
    public async Task APostgresRestartIsAnswered503WithRetryAfterThenTheReplicasRecoverCoherent()
    {
        var load = await Load(() => cluster.Do("restart-primary"), "restart");
        Assert.True(load.Unavailable > 0, "no request was answered 503 during the restart");
        await CoherentAfter("the restart");
    }

    [ClusterFact, Order(10)]
    public async Task PromotingTheStandbyLosesNoAcknowledgedWrite()
    {
        var load = await Load(() => cluster.Do("promote"), "promotion");
        Assert.False(cluster.Scalar<bool>("select pg_is_in_recovery()"));
        await CoherentAfter("the promotion");
    }

    /// <summary>
    /// Reads and writes through both replicas and nginx while <paramref name="fault"/> runs, until every writer has had
    /// a write acknowledged after it (at most 30 s). Every answer is 200, 201 or a 503 problem with Retry-After, never a
    /// 500; every acknowledged write is on the server that takes writes afterwards.
    /// </summary>
    private async Task<(int Unavailable, int Acknowledged)> Load(Action fault, string what)
    {
        var tag = Tag();
        var acknowledged = new ConcurrentBag<string>();
        var answers = new ConcurrentBag<string>();
        var faultDone = new TaskCompletionSource<DateTime>();
        var clock = Stopwatch.StartNew();
        async Task Writer(HttpClient client, string name)
        {
            for (var n = 0; ; n++)
            {
                using var response = await client.Post("/v1/services", $$"""{"name":"Load {{tag}} {{name}} {{n}}"}""");
                await Answered(response, name);
                if (response.StatusCode == HttpStatusCode.Created)
                {
                    acknowledged.Add(IdOf(JsonNode.Parse(await response.Content.ReadAsStringAsync())));
                    if (faultDone.Task.IsCompleted) return;
                }
                Assert.True(clock.Elapsed < TimeSpan.FromSeconds(40), $"{name}: no write acknowledged 30 s after the {what}");
                await Task.Delay(10);
            }
        }
        async Task Reader(HttpClient client, string name)
        {
            for (var n = 0; !faultDone.Task.IsCompleted; n++)
            {
                using var response = await client.GetAsync($"/v1/firms?limit={n % 100 + 1}&sort={(n / 100 % 2 == 0 ? "name" : "-name")}&count=true");
                await Answered(response, name);
                await Task.Delay(5);
            }
        }
        async Task Answered(HttpResponseMessage response, string name)
        {
            var status = (int)response.StatusCode;
            if (status == 503)
            {
                var body = await response.Content.ReadAsStringAsync();
                Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero, $"{name}: 503 without Retry-After: {body}");
            }
            answers.Add($"{name} {status}");
            Assert.True(status is 200 or 201 or 503, $"{name} answered {status}: {await response.Content.ReadAsStringAsync()}\n{cluster.Errors()}");
        }
        Task[] load =
        [
            Writer(cluster.A, "A"), Writer(cluster.B, "B"), Writer(cluster.Nginx, "nginx"),
            Reader(cluster.A, "A reads"), Reader(cluster.B, "B reads"),
        ];
        await Task.Delay(700);
        var faultStarted = clock.Elapsed;
        await Task.Run(fault);
        faultDone.SetResult(DateTime.UtcNow);
        var faultTook = clock.Elapsed - faultStarted;
        await Task.WhenAll(load);

        var unavailable = answers.Count(a => a.EndsWith(" 503"));
        output.WriteLine($"{what}: took {faultTook.TotalMilliseconds:F0} ms; {answers.Count} answers, {unavailable} of them 503; " +
                         $"{acknowledged.Count} writes acknowledged; every writer acknowledged again {clock.Elapsed - faultStarted - faultTook:g} after it");
        var stored = cluster.Scalar<long>($"select count(*) from services where name like 'Load {tag} %' and id = any(array['{string.Join("','", acknowledged)}'])");
        Assert.Equal(acknowledged.Count, stored);
        return (unavailable, acknowledged.Count);
    }

    /// <summary>After a fault, each replica still serves the other's writes within the bound, from a warm cache.</summary>
    private async Task CoherentAfter(string what)
    {
        // Until a replica listens again its cache may lag (it flushes everything once it does): the bound holds from then on.
        var back = await Http.Eventually(() => Task.FromResult(Listener("hubapi-1") > 0 && Listener("hubapi-2") > 0), TimeSpan.FromSeconds(10), "both replicas listening");
        output.WriteLine($"after {what}: both replicas listen again within {back.TotalMilliseconds:F0} ms");
        const string zone = "/v1/zones/zhangjiang";
        foreach (var (writer, reader) in new[] { (cluster.A, cluster.B), (cluster.B, cluster.A) })
        {
            var name = "Zhangjiang " + Tag();
            await reader.Json(zone);
            using (var patched = await writer.Patch(zone, $$"""{"name":"{{name}}"}""", await writer.ETag(zone))) await patched.Expect(HttpStatusCode.OK);
            var took = await Http.Eventually(async () => (await reader.Json(zone))["name"]!.GetValue<string>() == name, Bound, $"a write after {what}");
            output.WriteLine($"after {what}: {writer.BaseAddress} → {reader.BaseAddress} in {took.TotalMilliseconds:F0} ms");
        }
    }
}
