using HubApi.Data;
using Microsoft.Extensions.Logging.Abstractions;

namespace HubApi.Keys;

/// <summary>
/// <c>HubApi keys create --name NAME [--scope write|admin]...</c>, <c>keys list</c>, <c>keys revoke NAME-OR-ID</c>:
/// API key management with the service's own store and configuration, run instead of serving.
/// </summary>
public static class KeysCli
{
    private const string Usage = """
        usage: HubApi keys create --name NAME [--scope SCOPE]...   create a key and print it (once)
               HubApi keys list                                    list keys (never the keys themselves)
               HubApi keys revoke NAME-OR-ID                       revoke a key
        scopes: write (the default), admin
        """;

    /// <summary>Runs one command against the service's store; the new key is the only thing written to <paramref name="output"/> by create.</summary>
    public static int Run(CommandLine command, IStore store, TextWriter output, TextWriter error)
    {
        switch (command.Words)
        {
            case ["keys", "create"]:
                return Create(command.Options, Open(store), output, error);
            case ["keys", "list"]:
                return List(Open(store), output);
            case ["keys", "revoke", var target]:
                return Revoke(target, Open(store), output, error);
            default:
                error.WriteLine(Usage);
                return 2;
        }
    }

    private static int Create(ILookup<string, string> options, IApiKeyStore keys, TextWriter output, TextWriter error)
    {
        var name = options["name"].LastOrDefault();
        List<string> scopes = [.. options["scope"].SelectMany(s => s.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))];
        if (name is null || !ApiKeys.ValidName().IsMatch(name))
        {
            error.WriteLine("--name is required: 1 to 100 letters, digits, '.', '_' or '-', starting with a letter or digit.");
            return 2;
        }
        if (scopes.Count == 0) scopes.Add(ApiKeys.WriteScope);
        if (scopes.FirstOrDefault(s => !ApiKeys.KnownScopes.Contains(s)) is { } unknown)
        {
            error.WriteLine($"Unknown scope '{unknown}'. Scopes: {string.Join(", ", ApiKeys.KnownScopes)}.");
            return 2;
        }
        if (keys.NameInUse(name))
        {
            error.WriteLine($"A live key is already named '{name}'; revoke it first or pick another name.");
            return 1;
        }
        var (info, key) = keys.Create(name, scopes);
        output.WriteLine(key);
        error.WriteLine($"Created key {info.Id} '{info.Name}' with scopes: {info.Scopes}. It is shown only this once: store it now.");
        return 0;
    }

    private static int List(IApiKeyStore keys, TextWriter output)
    {
        output.WriteLine($"{"id",-16}  {"name",-24}  {"scopes",-12}  {"created",-24}  revoked");
        foreach (var key in keys.List())
            output.WriteLine($"{key.Id,-16}  {key.Name,-24}  {key.Scopes,-12}  {key.CreatedAt,-24}  {key.RevokedAt ?? "-"}");
        return 0;
    }

    private static int Revoke(string target, IApiKeyStore keys, TextWriter output, TextWriter error)
    {
        if (keys.Revoke(target) == 0)
        {
            error.WriteLine($"No live key has the name or id '{target}'.");
            return 1;
        }
        output.WriteLine($"Revoked '{target}'.");
        return 0;
    }

    /// <summary>The same start-up as the web app: the database is created and migrated when it is not yet.</summary>
    private static IApiKeyStore Open(IStore store)
    {
        store.Initialize(NullLogger.Instance);
        return store.Keys;
    }
}
