using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;

namespace HubApi.Data.Sqlite;

/// <summary>
/// Statements compiled once per connection and reused, for the write path. Every write runs on the one long-lived
/// writer connection (<see cref="WriteQueue.BeginWriteAsync"/>), so each statement a write uses is compiled by SQLite on its
/// first use only; Dapper, used everywhere else, compiles its statement afresh on every call, which is most of what a
/// small statement costs. A statement's parameters are given as (name, value) pairs, the same names in the same order
/// at every call of that statement.
/// </summary>
public static class Prepared
{
    private static readonly ConditionalWeakTable<SqliteConnection, Dictionary<string, SqliteCommand>> Statements = [];

    public static int ExecutePrepared(this SqliteConnection connection, SqliteTransaction tx, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        Command(connection, tx, sql, parameters).ExecuteNonQuery();

    public static SqliteDataReader QueryPrepared(this SqliteConnection connection, SqliteTransaction tx, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        Command(connection, tx, sql, parameters).ExecuteReader();

    public static object? ScalarPrepared(this SqliteConnection connection, SqliteTransaction tx, string sql, params ReadOnlySpan<(string Name, object? Value)> parameters) =>
        Command(connection, tx, sql, parameters).ExecuteScalar();

    private static SqliteCommand Command(SqliteConnection connection, SqliteTransaction tx, string sql, ReadOnlySpan<(string Name, object? Value)> parameters)
    {
        var statements = Statements.GetValue(connection, _ => new Dictionary<string, SqliteCommand>(StringComparer.Ordinal));
        if (!statements.TryGetValue(sql, out var command))
        {
            // Microsoft.Data.Sqlite keeps a command's compiled statements until its text changes or its connection closes.
            command = connection.CreateCommand();
            command.CommandText = sql;
            foreach (var (name, _) in parameters) command.Parameters.Add(new SqliteParameter("@" + name, DBNull.Value));
            statements.Add(sql, command);
        }
        command.Transaction = tx;
        for (var i = 0; i < parameters.Length; i++) command.Parameters[i].Value = parameters[i].Value ?? DBNull.Value;
        return command;
    }
}
