using HubApi.Data;
using HubApi.Http;

namespace HubApi;

/// <summary>Maintenance commands run with the service's configuration instead of serving: `dotnet run -- backup file`.</summary>
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
        """;

    /// <summary>The bare words of the command line: configuration switches (--key value, --key=value, key=value) are for serving.</summary>
    internal static string[] Words(string[] args)
    {
        var words = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            if (args[i].StartsWith('-'))
            {
                if (!args[i].Contains('=')) i++; // the switch's value
            }
            else if (!args[i].Contains('=')) words.Add(args[i]);
        }
        return [.. words];
    }

    /// <summary>Runs a command; returns its exit code, or null when the arguments ask to serve.</summary>
    public static async Task<int?> RunAsync(WebApplication app, string[] args)
    {
        if (Keys.KeysCli.Handles(args)) return Keys.KeysCli.Run(args, app.Configuration);
        var words = Words(args);
        if (words.Length == 0) return null;
        var db = app.Services.GetRequiredService<Db>();
        try
        {
            switch (words)
            {
                case ["openapi", var file]:
                    await app.WriteOpenApiAsync(file);
                    return 0;
                case ["backup", var file]:
                    Database.Initialize(db, app.Logger);
                    Backups.Backup(db, file);
                    Console.WriteLine($"Backed up {db.DataSource} to {Path.GetFullPath(file)}");
                    return 0;
                case ["restore", var file]:
                    Backups.Restore(db, file);
                    Console.WriteLine($"Restored {db.DataSource} from {Path.GetFullPath(file)}");
                    return 0;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }
        catch (Exception e) when (e is InvalidOperationException or Microsoft.Data.Sqlite.SqliteException or IOException)
        {
            await Console.Error.WriteLineAsync("error: " + e.Message);
            return 1;
        }
    }
}
