using System.Collections.Concurrent;
using Dapper;
using HubApi.Observability;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Keeps this replica's announcements (<see cref="IStore.Committed"/>) complete when other replicas write to the same
/// database. Every write notifies <see cref="Channel"/> as it commits, with the records it changed; this listener, on a
/// connection of its own, wakes on those notifications (or every few seconds), reads the change feed after the last
/// seq it saw — the feed is the truth — and announces the records other replicas changed, with the other sides of
/// their links from the notifications. Losing its connection, it announces that everything may have changed, as it
/// does again once reconnected, since notifications sent meanwhile are lost.
/// </summary>
/// <param name="dataSource">The replica's connections.</param>
/// <param name="announce">Raises <see cref="IStore.Committed"/>, in turn with this replica's own commits.</param>
internal sealed class ChangeListener(NpgsqlDataSource dataSource, Func<IReadOnlyCollection<string>, Task> announce)
{
    public const string Channel = "hubapi_changes";

    /// <summary>Tells this replica's notifications from the others'.</summary>
    public string ReplicaId { get; } = Guid.NewGuid().ToString("N");

    /// <summary>The feed rows this replica appended, which it announced itself when it committed them.</summary>
    private readonly ConcurrentDictionary<long, byte> own = new();

    /// <summary>Tags other replicas' notifications named since the last announcement.</summary>
    private readonly ConcurrentQueue<string> notified = new();

    private static readonly TimeSpan Poll = TimeSpan.FromSeconds(5);
    private static readonly TimeSpan Reconnect = TimeSpan.FromSeconds(1);
    private readonly CancellationTokenSource stop = new();
    private Task? running;

    private readonly TaskCompletionSource listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Starts listening, and waits a little for it: from then on, no other replica's write goes unannounced.</summary>
    public void Start(ILogger logger)
    {
        if (running is not null) return;
        running = Task.Run(() => Run(logger, stop.Token));
        listening.Task.Wait(TimeSpan.FromSeconds(5));
    }

    /// <summary>Notes a feed row this replica appended: when the listener reads it, it was announced already.</summary>
    public void Own(long seq) => own[seq] = 0;

    /// <summary>The payload of a write's notification: the replica, then what the write changed, space-separated.</summary>
    public string Payload(IEnumerable<string> changes)
    {
        var payload = string.Join(' ', changes.Prepend(ReplicaId));
        // NOTIFY payloads stop short of 8,000 bytes; a write that changed more asks every replica to forget everything.
        return payload.Length < 7000 ? payload : ReplicaId + " " + StoreChanges.Everything;
    }

    public void Stop()
    {
        stop.Cancel();
        try
        {
            running?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    private async Task Run(ILogger logger, CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            try
            {
                await using var connection = await dataSource.OpenConnectionAsync(cancellation);
                connection.Notification += (_, e) => Notified(e.Payload);
                await connection.ExecuteAsync($"listen {Channel}");
                // What committed up to now is covered by forgetting everything; what commits later, by the feed.
                var last = await connection.ExecuteScalarAsync<long>("select coalesce(max(seq), 0) from changes");
                await announce([StoreChanges.Everything]);
                Instruments.FeedRead(last);
                listening.TrySetResult();
                while (!cancellation.IsCancellationRequested)
                {
                    await connection.WaitAsync(Poll, cancellation);
                    last = await Catchup(connection, last);
                }
            }
            catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is NpgsqlException or InvalidOperationException or IOException)
            {
                logger.LogWarning("The change listener lost its connection ({Reason}); this replica's cache is flushed until it is back.", e.Message);
                await announce([StoreChanges.Everything]);
                try
                {
                    await Task.Delay(Reconnect, cancellation);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private void Notified(string payload)
    {
        var parts = payload.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length == 0 || parts[0] == ReplicaId) return;
        foreach (var tag in parts.Skip(1)) notified.Enqueue(tag);
    }

    /// <summary>Reads the feed after <paramref name="last"/> and announces what other replicas changed; returns the new last seq.</summary>
    private async Task<long> Catchup(NpgsqlConnection connection, long last)
    {
        const string sql = "select seq, resource, record_id from changes where seq > @last order by seq limit 1000";
        var changed = new HashSet<string>(StringComparer.Ordinal);
        while (notified.TryDequeue(out var tag)) changed.Add(tag);
        while (true)
        {
            var rows = (await connection.QueryAsync<(long Seq, string Resource, string RecordId)>(sql, new { last })).ToList();
            foreach (var (seq, resource, id) in rows)
            {
                if (!own.TryRemove(seq, out _)) changed.Add(resource + "/" + id);
                last = seq;
            }
            if (rows.Count < 1000) break;
        }
        // Rows this replica appended and then rolled back never appear: forget their numbers once the feed is past them.
        foreach (var seq in own.Keys.Where(s => s <= last)) own.TryRemove(seq, out _);
        if (changed.Count > 0) await announce(changed);
        Instruments.FeedRead(last);
        return last;
    }
}
