using Dapper;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// Rate-limit permits counted in PostgreSQL for every replica (db/postgres/0004_rate_limits.sql): one upsert per chunk
/// of permits, and, once per window in each replica, one delete of the windows that have ended.
/// </summary>
public sealed class PgPermitLedger(NpgsqlDataSource dataSource) : IPermitLedger
{
    private long forgottenBefore;

    public async Task<long> TakeAsync(string partition, long windowStart, int count, CancellationToken cancellation)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellation);
        var forgotten = Volatile.Read(ref forgottenBefore);
        if (forgotten < windowStart && Interlocked.CompareExchange(ref forgottenBefore, windowStart, forgotten) == forgotten)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "delete from rate_limit_windows where window_start < @windowStart", new { windowStart }, cancellationToken: cancellation));
        }
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(Take, new { partition, windowStart, count }, cancellationToken: cancellation));
    }

    private const string Take = """
        insert into rate_limit_windows as w (partition, window_start, taken) values (@partition, @windowStart, @count)
        on conflict (partition, window_start) do update set taken = w.taken + excluded.taken
        returning taken
        """;
}
