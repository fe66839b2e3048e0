using System.Data.Common;
using HubApi.Data;

namespace HubApi.Http;

/// <summary>What a budget said of one request: admitted or not, what is left of it, and when it is renewed.</summary>
public readonly record struct RateDecision(bool Admitted, int Remaining, int SecondsLeft);

/// <summary>Counts requests against one budget per partition and window.</summary>
public interface IRateCounter<in TKey>
{
    ValueTask<RateDecision> AcquireAsync(TKey partition);
}

/// <summary>
/// A budget counted in this process alone: per partition, an interlocked count of the requests admitted in the current
/// window. Anonymous budgets (per address), and keyed ones on an engine that serves one process.
/// </summary>
public sealed class LocalRateCounter<TKey> : IRateCounter<TKey> where TKey : notnull
{
    private readonly int permits;
    private readonly RateWindow window;
    private readonly PartitionTable<TKey, Partition> table;

    public LocalRateCounter(int permits, RateWindow window, int capacity = PartitionTable<TKey, Partition>.DefaultCapacity)
    {
        this.permits = permits;
        this.window = window;
        table = new PartitionTable<TKey, Partition>(capacity, static () => new Counter());
    }

    private sealed class Counter : Partition;

    internal int Partitions => table.Count;

    public ValueTask<RateDecision> AcquireAsync(TKey partition) => new(Acquire(partition));

    public RateDecision Acquire(TKey key)
    {
        var current = window.Current(out var secondsLeft);
        while (true)
        {
            var counter = table.Get(key, current);
            var state = Volatile.Read(ref counter.State);
            if (state == Partition.Retired) continue;
            var (number, used) = (Partition.WindowOf(state), Partition.CountOf(state));
            if (number > current) current = number; // another request read the clock a moment later: its window it is
            else if (number < current) used = 0;
            if (used >= permits) return new(false, 0, secondsLeft);
            if (Interlocked.CompareExchange(ref counter.State, Partition.Pack(current, used + 1), state) == state)
                return new(true, permits - used - 1, secondsLeft);
        }
    }
}

/// <summary>
/// A budget that every replica on one database spends together (API keys on PostgreSQL). Each replica leases chunks of
/// the budget from the shared count (<see cref="IPermitLedger"/>: one statement per chunk) and spends them with an
/// interlocked count, as <see cref="LocalRateCounter{TKey}"/> does. Chunks are at most 1% of the budget and shrink as
/// it runs out, so permits leased and left unspent when the window ends — requests refused although the budget was not
/// all spent — are at most replicas × chunk; more than the budget is never admitted. Once the shared budget is gone,
/// a replica refuses without asking again until the window ends. While the database cannot be reached, a replica counts
/// alone against what it last knew was left, so the budget holds per replica.
/// </summary>
public sealed class SharedRateCounter : IRateCounter<string>
{
    /// <summary>How long a lease may take before the replica counts alone (the key's requests wait for it meanwhile).</summary>
    public static readonly TimeSpan LeaseTimeout = TimeSpan.FromSeconds(3);

    /// <summary>How long a replica counts alone after a lease failed, before it asks the database again.</summary>
    public static readonly TimeSpan Unreachable = TimeSpan.FromSeconds(5);

    private readonly int permits;
    private readonly int maxChunk;
    private readonly RateWindow window;
    private readonly IPermitLedger ledger;
    private readonly TimeProvider clock;
    private readonly ILogger logger;
    private readonly PartitionTable<string, Leased> table;
    private long countAloneUntil;

    public SharedRateCounter(int permits, RateWindow window, IPermitLedger ledger, TimeProvider clock, ILogger logger,
        int capacity = PartitionTable<string, Leased>.DefaultCapacity)
    {
        this.permits = permits;
        maxChunk = MaxChunk(permits);
        this.window = window;
        this.ledger = ledger;
        this.clock = clock;
        this.logger = logger;
        // Keys are issued by operators, far fewer than the table holds: it never fills, and no key shares the overflow.
        table = new PartitionTable<string, Leased>(capacity, () => new Leased { Unleased = permits });
    }

    /// <summary>The largest chunk a replica leases: 1% of the budget, at least 1.</summary>
    public static int MaxChunk(int permits) => Math.Max(1, permits / 100);

    /// <summary>A key's partition: <see cref="Partition.State"/> counts the permits leased to this replica and not yet spent.</summary>
    internal sealed class Leased : Partition
    {
        public readonly SemaphoreSlim Turn = new(1, 1);
        /// <summary>What no replica had leased yet at this replica's last lease: with the permits in hand, what is left, as far as it knows.</summary>
        public int Unleased;
        /// <summary>The window whose shared budget this replica found spent.</summary>
        public long SpentIn = -1;

        public override bool TryRetire(long window) => Turn.CurrentCount > 0 && base.TryRetire(window);
    }

    public ValueTask<RateDecision> AcquireAsync(string key)
    {
        var current = window.Current(out var secondsLeft);
        while (true)
        {
            var partition = table.Get(key, current);
            var state = Volatile.Read(ref partition.State);
            if (state == Partition.Retired) continue;
            var (number, inHand) = (Partition.WindowOf(state), Partition.CountOf(state));
            if (number != current || inHand == 0)
            {
                if (number == current && partition.SpentIn == current) return new(new RateDecision(false, 0, secondsLeft));
                return LeaseAsync(key, partition, current, secondsLeft);
            }
            if (Interlocked.CompareExchange(ref partition.State, Partition.Pack(current, inHand - 1), state) == state)
                return new(new RateDecision(true, partition.Unleased + inHand - 1, secondsLeft));
        }
    }

    /// <summary>Leases the next chunk, one lease at a time per key; requests arriving meanwhile wait for it.</summary>
    private async ValueTask<RateDecision> LeaseAsync(string key, Leased partition, long current, int secondsLeft)
    {
        await partition.Turn.WaitAsync();
        try
        {
            while (true)
            {
                var state = Volatile.Read(ref partition.State);
                if (state == Partition.Retired) break; // retired before this turn: looked up again below
                var (number, inHand) = (Partition.WindowOf(state), Partition.CountOf(state));
                if (number > current) current = number;
                if (number < current)
                {
                    partition.Unleased = permits;
                    Interlocked.CompareExchange(ref partition.State, Partition.Pack(current, 0), state);
                    continue;
                }
                if (inHand > 0)
                {
                    // Another request's lease came in while this one waited.
                    if (Interlocked.CompareExchange(ref partition.State, Partition.Pack(current, inHand - 1), state) == state)
                        return new(true, partition.Unleased + inHand - 1, secondsLeft);
                    continue;
                }
                if (partition.SpentIn == current) return new(false, 0, secondsLeft);

                var chunk = Math.Clamp(partition.Unleased / 8, 1, maxChunk);
                var granted = await TakeAsync(key, partition, current, chunk);
                if (granted < chunk || partition.Unleased == 0) partition.SpentIn = current;
                if (granted == 0) return new(false, 0, secondsLeft);
                while (true)
                {
                    // Only this turn adds permits; requests may spend them meanwhile.
                    state = Volatile.Read(ref partition.State);
                    inHand = Partition.CountOf(state) + granted - 1;
                    if (Interlocked.CompareExchange(ref partition.State, Partition.Pack(current, inHand), state) == state)
                        return new(true, partition.Unleased + inHand, secondsLeft);
                }
            }
        }
        finally
        {
            partition.Turn.Release();
        }
        return await AcquireAsync(key);
    }

    /// <summary>Takes a chunk from the shared count and returns how much of it the budget granted.</summary>
    private async Task<int> TakeAsync(string key, Leased partition, long current, int chunk)
    {
        if (clock.GetUtcNow().UtcTicks >= Volatile.Read(ref countAloneUntil))
        {
            try
            {
                using var timeout = new CancellationTokenSource(LeaseTimeout);
                var taken = await ledger.TakeAsync(key, window.Start(current), chunk, timeout.Token);
                partition.Unleased = (int)Math.Clamp(permits - taken, 0, permits);
                return (int)Math.Clamp(permits - (taken - chunk), 0, chunk);
            }
            catch (Exception e) when (e is DbException or TimeoutException or OperationCanceledException)
            {
                Volatile.Write(ref countAloneUntil, (clock.GetUtcNow() + Unreachable).UtcTicks);
                logger.LogWarning("Rate-limit permits cannot be leased from the database ({Reason}); each replica counts API keys' budgets alone for {Seconds} s",
                    e.Message, Unreachable.TotalSeconds);
            }
        }
        var alone = Math.Min(chunk, partition.Unleased);
        partition.Unleased -= alone;
        return alone;
    }
}
