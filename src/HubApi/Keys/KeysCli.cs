using HubApi.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace HubApi.Keys;

/// <summary>
/// <c>HubApi keys create --name NAME [--scope write|admin]...</c>, <c>keys list</c>, <c>keys revoke NAME-OR-ID</c>:
/// API key management against the configured database, run instead of the web app.
/// </summary>
public static class KeysCli
{
    private const string Usage = """
        usage: HubApi keys create --name NAME [--scope SCOPE]...   create a key and print it (once)
               HubApi keys list                                    list keys (never the keys themselves)
               HubApi keys revoke NAME-OR-ID                       revoke a key
        scopes: write (the default), admin
        """;

    public static bool Handles(string[] args) => args is ["keys", ..];

    public static int Run(string[] args, IConfiguration configuration) =>
        Run(args, configuration.GetConnectionString("Hub") ?? DataServices.DefaultConnectionString, Console.Out, Console.Error);

    /// <summary>Runs one command; the new key is the only thing written to <paramref name="output"/> by create.</summary>
    public static int Run(string[] args, string connectionString, TextWriter output, TextWriter error)
    {
        switch (args)
        {
            case ["keys", "create", .. var options]:
                return Create(options, connectionString, output, error);
            case ["keys", "list"]:
                return List(connectionString, output);
            case ["keys", "revoke", var target]:
                return Revoke(target, connectionString, output, error);
            default:
                error.WriteLine(Usage);
                return 2;
        }
    }

    private static int Create(string[] options, string connectionString, TextWriter output, TextWriter error)
    {
        string? name = null;
        var scopes = new List<string>();
        for (var i = 0; i < options.Length; i++)
        {
            switch (options[i])
            {
                case "--name" when i + 1 < options.Length:
                    name = options[++i];
                    break;
                case "--scope" when i + 1 < options.Length:
                    scopes.AddRange(options[++i].Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries));
                    break;
                default:
                    error.WriteLine($"Unexpected argument '{options[i]}'.");
                    error.WriteLine(Usage);
                    return 2;
            }
        }
        if (name is null || !ApiKeyStore.ValidName().IsMatch(name))
        {
            error.WriteLine("--name is required: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit.");
            return 2;
        }
        if (scopes.Count == 0) scopes.Add(ApiKeyStore.WriteScope);
        if (scopes.FirstOrDefault(s => !ApiKeyStore.KnownScopes.Contains(s)) is { } unknown)
        {
            error.WriteLine($"Unknown scope '{unknown}'. Scopes: {string.Join(", ", ApiKeyStore.KnownScopes)}.");
            return 2;
        }

        using var connection = Open(connectionString);
        if (ApiKeyStore.NameInUse(connection, name))
        {
            error.WriteLine($"A live key is already named '{name}'; revoke it first or pick another name.");
            return 1;
        }
        var (info, key) = ApiKeyStore.Create(connection, name, scopes);
        output.WriteLine(key);
        error.WriteLine($"Created key {info.Id} '{info.Name}' with scopes: {info.Scopes}. It is shown only this once: store it now.");
        return 0;
    }

    private static int List(string connectionString, TextWriter output)
    {
        using var connection = Open(connectionString);
        output.WriteLine($"{"id",-16}  {"name",-24}  {"scopes",-12}  {"created",-24}  revoked");
        foreach (var key in ApiKeyStore.List(connection))
            output.WriteLine($"{key.Id,-16}  {key.Name,-24}  {key.Scopes,-12}  {key.CreatedAt,-24}  {key.RevokedAt ?? "-"}");
        return 0;
    }

    private static int Revoke(string target, string connectionString, TextWriter output, TextWriter error)
    {
        using var connection = Open(connectionString);
        var count = ApiKeyStore.Revoke(connection, target);
        if (count == 0)
        {
            error.WriteLine($"No live key has the name or id '{target}'.");
            return 1;
        }
        output.WriteLine($"Revoked '{target}'.");
        return 0;
    }

    /// <summary>The same start-up as the web app: the database is created and migrated when it is not yet.</summary>
    private static Microsoft.Data.Sqlite.SqliteConnection Open(string connectionString)
    {
        var db = new Db(connectionString);
        Database.Initialize(db, NullLogger.Instance);
        return db.Open();
    }
}
