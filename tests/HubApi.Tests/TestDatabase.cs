using Dapper;
using HubApi.Data.Postgres;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace HubApi.Tests;

/// <summary>
/// The database a test's service runs on. By default a SQLite file of its own. With HUBAPI_TEST_PROVIDER=Postgres and
/// HUBAPI_TEST_POSTGRES set to an admin connection string, a PostgreSQL database of its own instead: a template database is
/// migrated and seeded once per run, and each test's database is a copy of it (CREATE DATABASE ... TEMPLATE), dropped
/// afterwards. Tests about SQLite itself carry [Trait("Provider", "Sqlite")] and are left out of that run.
/// </summary>
public static class TestDatabase
{
    public static bool Postgres { get; } = Environment.GetEnvironmentVariable("HUBAPI_TEST_PROVIDER") == "Postgres";

    private static string Admin => Environment.GetEnvironmentVariable("HUBAPI_TEST_POSTGRES")
        ?? throw new InvalidOperationException("HUBAPI_TEST_PROVIDER=Postgres needs HUBAPI_TEST_POSTGRES, an admin connection string.");

    /// <summary>A new database's name: a file in the temp folder, or a PostgreSQL database name.</summary>
    public static string NewName(string kind = "test") =>
        Postgres ? $"hubapi_{kind}_{Guid.NewGuid():N}" : Path.Combine(Path.GetTempPath(), $"hubapi-{kind}-{Guid.NewGuid():N}.db");

    /// <summary>The settings that point the service at the database (configuration keys, as ':' or '__' separated).</summary>
    public static Dictionary<string, string> Settings(string database, string separator = ":") => Postgres
        ? new() { [$"Database{separator}Provider"] = "Postgres", [$"ConnectionStrings{separator}Hub"] = ConnectionString(database) }
        : new() { [$"ConnectionStrings{separator}Hub"] = $"Data Source={database}" };

    public static string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder(Admin) { Database = database, Pooling = true }.ToString();

    /// <summary>Makes the PostgreSQL database, a copy of the seeded template (or empty), unless it is there already.</summary>
    public static void Create(string database, bool empty = false)
    {
        if (!Postgres) return;
        var template = empty ? "template0" : Template.Value;
        using var admin = OpenAdmin();
        if (admin.ExecuteScalar<bool>("select exists (select 1 from pg_database where datname = @database)", new { database })) return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                admin.Execute($"create database {Quote(database)} template {Quote(template)}");
                return;
            }
            catch (PostgresException e) when (e.SqlState is "42P04" or "23505")
            {
                return; // made by another thread of the same test a moment ago
            }
            catch (PostgresException e) when (e.SqlState == "55006" && attempt < 20)
            {
                Thread.Sleep(100); // another copy of the template is being made at this very moment
            }
        }
    }

    public static void Drop(string database)
    {
        if (!Postgres) return;
        using var admin = OpenAdmin();
        admin.Execute($"drop database if exists {Quote(database)} with (force)");
    }

    /// <summary>Runs a statement straight on the database, behind the service's back.</summary>
    public static int Execute(string database, string sql, object? parameters = null)
    {
        using var connection = Open(database);
        return connection.Execute(sql, parameters);
    }

    public static T Scalar<T>(string database, string sql, object? parameters = null)
    {
        using var connection = Open(database);
        return connection.ExecuteScalar<T>(sql, parameters)!;
    }

    public static List<T> Query<T>(string database, string sql, object? parameters = null)
    {
        using var connection = Open(database);
        return [.. connection.Query<T>(sql, parameters)];
    }

    private static System.Data.Common.DbConnection Open(string database)
    {
        System.Data.Common.DbConnection connection = Postgres
            ? new NpgsqlConnection(new NpgsqlConnectionStringBuilder(ConnectionString(database)) { Pooling = false }.ToString())
            : new SqliteConnection($"Data Source={database};Pooling=False");
        connection.Open();
        return connection;
    }

    private static NpgsqlConnection OpenAdmin()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(Admin) { Pooling = false }.ToString());
        connection.Open();
        return connection;
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"") + "\"";

    /// <summary>The run's template: migrated and seeded by the service's own store, once; dropped when the run ends.</summary>
    private static readonly Lazy<string> Template = new(() =>
    {
        var name = NewName("template");
        using (var admin = OpenAdmin()) admin.Execute($"create database {Quote(name)}");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Drop(name);
        using (var store = new PostgresStore(ConnectionString(name), Catalog.Resources)) store.Initialize(NullLogger.Instance);
        return name;
    });
}
