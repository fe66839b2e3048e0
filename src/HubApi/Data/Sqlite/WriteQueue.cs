using System.Diagnostics;
using HubApi.Observability;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// The group-commit write queue: SQLite admits one writer at a time, so this process's writes take turns here, and
/// writes that queue behind one another share one transaction and one disk flush.
/// </summary>
public sealed class WriteQueue(SqliteDatabase db)
{
    /// <summary>
    /// Raised after every commit, once for each write in it, in the order they ran and before any is answered, with what
    /// that write said it changed (<see cref="WriteTransaction.Complete"/>).
    /// </summary>
    public event Action<IReadOnlyCollection<string>>? Committed;

    /// <summary>
    /// Begins a write. SQLite admits one writer at a time, so this process's writes queue here first, asynchronously and
    /// in arrival order: a waiting write holds no thread, and a write lock held by another process blocks one thread
    /// rather than one per write, which would starve the thread pool and stall reads. A write waits at most
    /// <see cref="SqliteDatabase.BusyTimeout"/> for its turn, then at most <see cref="SqliteDatabase.LockTimeout"/> for another process's lock; past
    /// either it fails with SQLITE_BUSY, answered 503 + Retry-After: within 1 s behind a foreign lock, 3 s at the very
    /// worst, never a hang.
    /// <para>
    /// Writes that queue behind one another share a transaction (group commit): each runs in its own savepoint, and
    /// the last in the queue commits for all of them, so a burst of writes costs one disk flush rather than one each.
    /// None is answered before that commit is on disk (<see cref="WriteTransaction.DisposeAsync"/> waits for it); if it
    /// fails, every write in it fails, and nothing was acknowledged that is not stored.
    /// </para>
    /// </summary>
    public async Task<WriteTransaction> BeginWriteAsync(CancellationToken cancellation)
    {
        Interlocked.Increment(ref waiting);
        bool entered;
        try
        {
            entered = await turn.WaitAsync(SqliteDatabase.BusyTimeout, cancellation);
        }
        finally
        {
            Interlocked.Decrement(ref waiting);
        }
        if (!entered) throw new SqliteException("database is locked: the writes queued ahead of this one did not finish in time", 5);
        try
        {
            open ??= WriteBatch.Begin(Writer());
            open.Begin();
            return new WriteTransaction(this, open);
        }
        catch (Exception e)
        {
            if (open is { } batch) Fail(batch, e);
            else DropWriter(); // it could not begin a transaction: start afresh next time
            turn.Release();
            throw;
        }
    }

    private readonly SemaphoreSlim turn = new(1, 1);
    private int waiting;

    /// <summary>Writes waiting for their turn (a metric).</summary>
    public int Waiting => Volatile.Read(ref waiting);
    private WriteBatch? open;

    /// <summary>
    /// The connection every write runs on, one at a time: opened by the first write and kept open, so the statements
    /// writes use stay compiled (<see cref="Prepared"/>). A failed batch closes it; the next write opens a fresh one.
    /// </summary>
    private SqliteConnection? writer;

    private SqliteConnection Writer()
    {
        if (writer is null)
        {
            var connection = db.Open();
            try
            {
                connection.DefaultTimeout = (int)SqliteDatabase.LockTimeout.TotalSeconds;
                SetBusyTimeout(connection, SqliteDatabase.LockTimeout);
            }
            catch
            {
                connection.Dispose();
                throw;
            }
            writer = connection;
        }
        return writer;
    }

    private void DropWriter()
    {
        if (writer is not { } connection) return;
        writer = null;
        try
        {
            // Back in the pool, the connection serves reads, which wait longer for a lock than a write may.
            if (connection.State == System.Data.ConnectionState.Open) SetBusyTimeout(connection, SqliteDatabase.BusyTimeout);
        }
        catch (SqliteException)
        {
        }
        connection.Dispose();
    }

    private static void SetBusyTimeout(SqliteConnection connection, TimeSpan timeout)
    {
        using var command = connection.CreateCommand();
        command.CommandText = $"pragma busy_timeout = {(int)timeout.TotalMilliseconds}";
        command.ExecuteNonQuery();
    }

    /// <summary>Closes the writer connection once the writes in progress are done (on shutdown, before the last checkpoint).</summary>
    public void CloseWriter()
    {
        var entered = turn.Wait(SqliteDatabase.BusyTimeout);
        try
        {
            DropWriter();
        }
        finally
        {
            if (entered) turn.Release();
        }
    }

    /// <summary>Most writes one transaction holds: bounds how long the first of them waits for the commit.</summary>
    private const int MaxBatch = 32;

    /// <summary>Ends a write's turn, committing its batch if no other write is queued to join it.</summary>
    internal Task EndWrite(WriteBatch batch, string[]? changes, Action? committed)
    {
        try
        {
            if (open != batch) return batch.Durable; // the batch already failed
            batch.End(changes, committed);
            if (Volatile.Read(ref waiting) == 0 || batch.Members >= MaxBatch) Commit(batch);
            else if (!batch.CommitQueued)
            {
                // The queued writes join this batch; a commit queued behind them ends it, however many give up waiting.
                batch.CommitQueued = true;
                _ = CommitInTurn(batch);
            }
        }
        catch (Exception e)
        {
            Fail(batch, e);
        }
        finally
        {
            turn.Release();
        }
        return batch.Durable;
    }

    private async Task CommitInTurn(WriteBatch batch)
    {
        await turn.WaitAsync(); // no time-out: the writes in the batch wait for this commit
        try
        {
            if (open == batch) Commit(batch);
        }
        catch (Exception e)
        {
            Fail(batch, e);
        }
        finally
        {
            turn.Release();
        }
    }

    private void Commit(WriteBatch batch)
    {
        open = null;
        using (var span = Instruments.StartSql("sqlite", "COMMIT"))
        {
            span?.SetTag("hubapi.commit.batch_size", batch.Members);
            var started = Stopwatch.GetTimestamp();
            batch.Commit();
            Instruments.CommitDuration.Record(Stopwatch.GetElapsedTime(started).TotalSeconds);
            Instruments.CommitBatchSize.Record(batch.Members);
        }
        // In the order the writes ran, each one's changes are announced and then its own action runs: what an earlier
        // write published, a later one in the batch that changed it again retires.
        foreach (var (changes, committed) in batch.Completed)
        {
            Committed?.Invoke(changes);
            committed?.Invoke();
        }
        batch.Succeed();
        if (batch.Completed.Count > 0 && batch.LastSeq() is { } seq) Instruments.FeedSequence(seq);
    }

    private void Fail(WriteBatch batch, Exception error)
    {
        if (open == batch) open = null;
        batch.Fail(error);
        // Whatever the error left behind (a rolled-back transaction, a full disk, a damaged file) goes with the connection.
        if (writer == batch.Connection) DropWriter();
    }
}

/// <summary>
/// One write's view of its batch: the shared connection and transaction, inside the write's own savepoint. Call
/// <see cref="Complete"/> once the write is done; disposing without it undoes the write. Disposing ends the write's
/// turn and waits until its batch is committed to disk, throwing if that failed: dispose before answering.
/// </summary>
public sealed class WriteTransaction : IAsyncDisposable
{
    private readonly WriteQueue queue;
    private readonly WriteBatch batch;
    private string[]? changes;
    private Action? committed;
    private int disposed;

    internal WriteTransaction(WriteQueue queue, WriteBatch batch) => (this.queue, this.batch) = (queue, batch);

    public SqliteConnection Connection => batch.Connection;
    public SqliteTransaction Transaction => batch.Transaction;

    /// <summary>
    /// Keeps what this write changed, named for <see cref="WriteQueue.Committed"/>; it becomes durable when its batch commits.
    /// <paramref name="committed"/>, if given, runs right after <see cref="WriteQueue.Committed"/> announces this write, before
    /// it announces any later one and before any write is answered.
    /// </summary>
    public void Complete(string[] changed, Action? committed = null) => (changes, this.committed) = (changed, committed);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref disposed, 1) != 0) return;
        await queue.EndWrite(batch, changes, committed);
    }
}

/// <summary>A transaction shared by writes that queued behind one another; see <see cref="WriteQueue.BeginWriteAsync"/>.</summary>
internal sealed class WriteBatch
{
    private const string Savepoint = "write";

    private readonly TaskCompletionSource durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private WriteBatch(SqliteConnection connection, SqliteTransaction transaction) => (Connection, Transaction) = (connection, transaction);

    public SqliteConnection Connection { get; }
    public SqliteTransaction Transaction { get; }
    public int Members { get; private set; }
    /// <summary>The writes the batch keeps, in the order they ran: what each changed, and what it runs once committed.</summary>
    public List<(string[] Changes, Action? Committed)> Completed { get; } = [];
    public bool CommitQueued { get; set; }
    public Task Durable => durable.Task;

    public static WriteBatch Begin(SqliteConnection connection) => new(connection, connection.BeginTransaction(deferred: false));

    /// <summary>Opens the savepoint of the next write in the batch.</summary>
    public void Begin() => Connection.ExecutePrepared(Transaction, "savepoint " + Savepoint);

    /// <summary>Keeps one write's savepoint, if it completed with what it changed, or undoes it.</summary>
    public void End(string[]? changes, Action? committed)
    {
        Members++;
        if (changes is null)
        {
            // An error such as a full disk may have rolled back the whole transaction, and with it the writes before.
            // Report it as that error, so every write in the batch is answered as the one that hit it (a full disk: 507).
            if (SQLitePCL.raw.sqlite3_get_autocommit(Connection.Handle) != 0)
                throw new SqliteException("the transaction was rolled back by an error in one of its writes",
                    SQLitePCL.raw.sqlite3_extended_errcode(Connection.Handle));
            Connection.ExecutePrepared(Transaction, "rollback to " + Savepoint);
        }
        Connection.ExecutePrepared(Transaction, "release " + Savepoint);
        if (changes is not null) Completed.Add((changes, committed));
    }

    public void Commit() => Transaction.Commit();

    /// <summary>The change feed's newest seq once committed (the writer is the only one appending), for a metric: null if it cannot be read.</summary>
    public long? LastSeq()
    {
        try
        {
            return Connection.ScalarPrepared(null!, "select max(seq) from changes") as long?;
        }
        catch (SqliteException)
        {
            return null; // the commit stands; the next one tries again
        }
    }

    public void Succeed() => durable.TrySetResult();

    public void Fail(Exception error)
    {
        try
        {
            Transaction.Dispose(); // rolls back what is still open
        }
        catch (SqliteException)
        {
            // The connection is closed after this either way; the original error is the one to report.
        }
        durable.TrySetException(error);
    }
}
