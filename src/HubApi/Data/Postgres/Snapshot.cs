using Dapper;
using Npgsql;

namespace HubApi.Data.Postgres;

/// <summary>
/// A read of one snapshot: every statement between <see cref="Begin"/> and disposing the result sees the same committed
/// state, so a record's row, links and citations always come from one version, whatever commits meanwhile.
/// </summary>
public static class Snapshot
{
    public static IDisposable Begin(NpgsqlConnection connection)
    {
        connection.Execute("begin isolation level repeatable read read only");
        return new End(connection);
    }

    private sealed class End(NpgsqlConnection connection) : IDisposable
    {
        public void Dispose()
        {
            // An error may have broken the connection; never let ending the read hide that error. In an aborted
            // transaction, commit rolls back without an error of its own.
            if (connection.State != System.Data.ConnectionState.Open) return;
            try
            {
                connection.Execute("commit");
            }
            catch (NpgsqlException)
            {
            }
        }
    }
}
