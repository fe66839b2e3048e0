using System.Data.Common;
using HubApi.Data;
using HubApi.Data.Sqlite;
using HubApi.Import;
using HubApi.Keys;
using HubApi.OpenApi;
using HubApi.Resources;

namespace HubApi;

/// <summary>The command line: its words (a command) and its switches (--name value, --name=value).</summary>
/// <param name="Words">The bare words: `backup file`, `keys revoke partner`.</param>
/// <param name="Options">Each switch's values, by name without the dashes: configuration to the host, options to a command.</param>
public sealed record CommandLine(string[] Words, ILookup<string, string> Options)
{
    public static CommandLine Parse(string[] args)
    {
        var words = new List<string>();
        var options = new List<(string Name, string Value)>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            if (arg.StartsWith('-'))
            {
                var name = arg.TrimStart('-');
                var equals = name.IndexOf('=');
                if (equals >= 0) options.Add((name[..equals], name[(equals + 1)..]));
                else options.Add((name, i + 1 < args.Length ? args[++i] : ""));
            }
            else if (!arg.Contains('=')) words.Add(arg); // key=value is configuration too
        }
        return new CommandLine([.. words], options.ToLookup(o => o.Name, o => o.Value, StringComparer.OrdinalIgnoreCase));
    }
}

/// <summary>Maintenance commands, run with the service's configuration and services instead of serving: `dotnet run -- backup file`.</summary>
public static class Cli
{
    public const string Usage = """
        HubApi commands:
          (none)                  serve
          openapi <file>          write the OpenAPI document (the committed openapi.yaml)
          backup <file>           copy the database online into a new file
          restore <file>          replace the database's content with a backup (service stopped)
          keys create --name N --scope write[,admin]
          keys list
          keys revoke <name-or-id>
          import <resource> <file.ndjson|file.csv> [--upsert]
                                  load records, all or nothing (an export loads back as it was)
        """;

    /// <summary>Runs a command; returns its exit code, or null when the arguments ask to serve.</summary>
    public static async Task<int?> RunAsync(WebApplication app, string[] args)
    {
        var command = CommandLine.Parse(args);
        if (command.Words.Length == 0) return null;
        var store = app.Services.GetRequiredService<IStore>();
        try
        {
            switch (command.Words)
            {
                case ["keys", ..]:
                    return KeysCli.Run(command, store, Console.Out, Console.Error);
                case ["import", ..]:
                    return await ImportCli.RunAsync(command, store, app.Services.GetRequiredService<ResourceCatalog>(), Console.Out, Console.Error);
                case ["openapi", var file]:
                    await app.WriteOpenApiAsync(file);
                    return 0;
                case ["backup", var file] when store is SqliteStore sqlite:
                    store.Initialize(app.Logger);
                    Backups.Backup(sqlite.Database, file);
                    Console.WriteLine($"Backed up {store.Location} to {Path.GetFullPath(file)}");
                    return 0;
                case ["restore", var file] when store is SqliteStore sqlite:
                    Backups.Restore(sqlite.Database, file);
                    Console.WriteLine($"Restored {store.Location} from {Path.GetFullPath(file)}");
                    return 0;
                case ["backup" or "restore", _]:
                    await Console.Error.WriteLineAsync("backup and restore are for the embedded SQLite database; use the database server's own tools.");
                    return 2;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or DbException or IOException)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }
}
