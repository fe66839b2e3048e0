using System.Collections.Concurrent;

namespace HubApi.Http;

/// <summary>
/// Fixed windows of one length, numbered from the Unix epoch: every replica agrees on when a window starts and ends
/// without asking the others (their clocks kept by NTP).
/// </summary>
public sealed class RateWindow
{
    private readonly long lengthMs;
    private readonly TimeProvider clock;

    public RateWindow(int seconds, TimeProvider clock)
    {
        if (seconds is < 1 or > 86_400) throw new InvalidOperationException("RateLimiting:WindowSeconds must be 1 to 86400.");
        Seconds = seconds;
        lengthMs = seconds * 1000L;
        this.clock = clock;
    }

    public int Seconds { get; }

    /// <summary>The current window's number, and the whole seconds until it ends (1 to <see cref="Seconds"/>).</summary>
    public long Current(out int secondsLeft)
    {
        var now = clock.GetUtcNow().ToUnixTimeMilliseconds();
        var number = now / lengthMs;
        secondsLeft = (int)(((number + 1) * lengthMs - now + 999) / 1000);
        return number;
    }

    /// <summary>When the window starts, in Unix seconds.</summary>
    public long Start(long number) => number * Seconds;
}

/// <summary>
/// One partition's state (a key's, an address's) as one long, the window's number in the high half and a count in the
/// low half, so that a single compare-and-swap both moves it to a new window and counts: no lock on the request path.
/// </summary>
internal abstract class Partition
{
    /// <summary>The state of a partition taken out of its table: a request that finds it looks the partition up again.</summary>
    public const long Retired = unchecked((long)0xFFFF_FFFF_0000_0000);

    public long State;

    public static long Pack(long window, int count) => (window << 32) | (uint)count;

    public static long WindowOf(long state) => state >>> 32;

    public static int CountOf(long state) => (int)state;

    /// <summary>Retires the partition if nothing happened in it in <paramref name="window"/> or since, and nothing is under way.</summary>
    public virtual bool TryRetire(long window)
    {
        var state = Volatile.Read(ref State);
        return state != Retired && WindowOf(state) < window && Interlocked.CompareExchange(ref State, Retired, state) == state;
    }
}

/// <summary>
/// The partitions of one budget, looked up without a lock. Bounded: at the start of each window, the partitions idle
/// through the last one are retired and forgotten (in the background); while the table is full of partitions active in
/// this window, newcomers share one overflow partition, and so one budget, until the next.
/// </summary>
internal sealed class PartitionTable<TKey, TPartition>(int capacity, Func<TPartition> create)
    where TKey : notnull
    where TPartition : Partition
{
    /// <summary>The default bound: about 10 MB of partitions, far more clients than one replica serves in a minute.</summary>
    public const int DefaultCapacity = 100_000;

    private readonly ConcurrentDictionary<TKey, TPartition> partitions = new();
    private readonly TPartition overflow = create();
    private int count;
    private long sweptWindow = -1;

    public int Count => Volatile.Read(ref count);

    public TPartition Get(TKey key, long window)
    {
        var swept = Volatile.Read(ref sweptWindow);
        if (swept < window && Interlocked.CompareExchange(ref sweptWindow, window, swept) == swept && Count > 0)
            ThreadPool.UnsafeQueueUserWorkItem(static state => state.table.Sweep(state.window), (table: this, window), preferLocal: false);

        if (partitions.TryGetValue(key, out var partition)) return partition;
        if (Count >= capacity) return overflow;
        var created = create();
        if (partitions.TryAdd(key, created))
        {
            Interlocked.Increment(ref count);
            return created;
        }
        return partitions.TryGetValue(key, out partition) ? partition : created; // added meanwhile (or already retired: counted apart once)
    }

    /// <summary>Forgets the partitions with nothing counted in <paramref name="window"/>.</summary>
    internal void Sweep(long window)
    {
        foreach (var (key, partition) in partitions)
        {
            if (partition.TryRetire(window) && partitions.TryRemove(new KeyValuePair<TKey, TPartition>(key, partition)))
                Interlocked.Decrement(ref count);
        }
    }
}
