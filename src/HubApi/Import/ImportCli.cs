using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Http;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.Extensions.Logging.Abstractions;

namespace HubApi.Import;

/// <summary>
/// <c>HubApi import RESOURCE FILE [--upsert]</c>: loads an NDJSON or CSV file (as the exports write them) through the batch
/// mechanism (<see cref="Batch"/>), all or nothing, in one transaction, every change recorded as written by <c>cli</c>.
/// A database that does not exist yet is created without the seed dataset: the file's records are its records.
/// </summary>
public static class ImportCli
{
    public const string Usage = """
        usage: HubApi import RESOURCE FILE.ndjson|FILE.csv [--upsert]
        Loads the file's records in one transaction, all or nothing; --upsert replaces records whose id exists.
        The server-owned properties an export carries (version, createdAt, updatedAt) are ignored: each record imported
        is a new version. CSV carries no citations. Import related resources first, in the order sources, industries,
        zones, firms, targets, projects, facilities, services, indicators: a link both sides list (a zone's
        industries) is written by the side imported later.
        """;

    /// <summary>Progress is reported every this many rows.</summary>
    private const int ProgressEvery = 1000;

    public static async Task<int> RunAsync(CommandLine command, IStore store, ResourceCatalog catalog, TextWriter output, TextWriter error)
    {
        if (command.Words is not ["import", var name, var file])
        {
            await error.WriteLineAsync(Usage);
            return 2;
        }
        if (catalog.All.FirstOrDefault(r => r.Name == name) is not { } resource)
        {
            await error.WriteLineAsync($"Unknown resource '{name}'. Resources: {string.Join(", ", catalog.All.Select(r => r.Name))}.");
            return 2;
        }
        var csv = file.EndsWith(".csv", StringComparison.OrdinalIgnoreCase);
        if (!csv && !file.EndsWith(".ndjson", StringComparison.OrdinalIgnoreCase) && !file.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase))
        {
            await error.WriteLineAsync("The file must be NDJSON (.ndjson, .jsonl) or CSV (.csv), as the exports write them.");
            return 2;
        }
        var mode = command.Options.Contains("upsert") ? BatchMode.Upsert : BatchMode.Create;

        List<JsonObject> rows;
        if (csv)
        {
            (rows, var problem) = FromCsv(resource, await File.ReadAllTextAsync(file));
            if (problem is not null)
            {
                await error.WriteLineAsync($"error: {problem}");
                return 1;
            }
        }
        else
        {
            (rows, var refusal) = Batch.Parse(await File.ReadAllBytesAsync(file), ndjson: true, resource.Indefinite, maxRows: int.MaxValue);
            if (refusal is not null)
            {
                await error.WriteLineAsync($"error: {refusal.Detail}");
                return 1;
            }
        }
        foreach (var row in rows)
        {
            foreach (var owned in Resource.ServerOwned) row.Remove(owned);
        }

        store.Initialize(NullLogger.Instance, seed: false);
        KeepLinksToExisting(store, catalog, resource, rows);

        await error.WriteLineAsync($"Validating {rows.Count:N0} {resource.Name} from {file}");
        var validator = RecordValidator.For(resource, catalog.Sources);
        var (versions, invalid) = Batch.Validate(rows, validator, mode);
        if (invalid is not null) return await Refused(invalid, error);

        await using var write = await store.BeginWriteAsync(Writers.Cli, CancellationToken.None);
        var (items, _, refused) = Batch.Write(write, resource, validator, rows, versions, mode, (_, _, _, _) => [], done =>
        {
            if (done % ProgressEvery == 0 || done == rows.Count) error.WriteLine($"  {done:N0} / {rows.Count:N0} written");
        });
        if (refused is not null) return await Refused(refused, error);
        write.Complete([]);
        await write.DisposeAsync(); // the commit: durable before the line below says so
        await output.WriteLineAsync(
            $"Imported {rows.Count:N0} {resource.Name} into {store.Location}: {items.Count(i => i.Op == "created"):N0} created, {items.Count(i => i.Op == "updated"):N0} replaced.");
        return 0;
    }

    /// <summary>
    /// A link both sides list (a zone's industries are an industry's zones) is written by the side imported later, as the
    /// seed dataset does: a record imported before the other side keeps only the links to records already there, and the
    /// later side's file brings the rest. Importing the resources in catalog order (sources, industries, zones, ...) so
    /// gives back every link.
    /// </summary>
    private static void KeepLinksToExisting(IStore store, ResourceCatalog catalog, Resource resource, List<JsonObject> rows)
    {
        var later = catalog.All.SkipWhile(r => r != resource).Skip(1).ToHashSet();
        var backLinks = resource.ToMany.Where(r => later.Contains(r.To) && r.To.ToMany.Any(o => o.JoinTable == r.JoinTable)).ToList();
        if (backLinks.Count == 0) return;
        using var read = store.BeginRead();
        foreach (var row in rows)
        {
            foreach (var relation in backLinks)
            {
                if (row[relation.Name] is not JsonArray ids) continue;
                row[relation.Name] = new JsonArray([.. ids.Where(id => id is JsonValue v && read.Exists(relation.To, v.GetValue<string>())).Select(id => id!.DeepClone())]);
            }
        }
    }

    private static async Task<int> Refused(BatchRefusal refusal, TextWriter error)
    {
        await error.WriteLineAsync($"error: {refusal.Detail} Nothing was imported.");
        foreach (var (key, messages) in (refusal.Errors ?? new Dictionary<string, string[]>()).Take(20))
            await error.WriteLineAsync($"  {key}: {string.Join(" ", messages)}");
        return 1;
    }

    /// <summary>
    /// The records of a CSV export: a header of property names, then one record per line (RFC 4180 quoting). An empty
    /// cell is null; to-many ids are joined with ';'; booleans are true/false.
    /// </summary>
    public static (List<JsonObject> Rows, string? Problem) FromCsv(Resource resource, string text)
    {
        var lines = CsvRecords(text).ToList();
        if (lines.Count == 0) return ([], "The CSV file is empty: it needs a header line.");
        var header = lines[0];
        var known = resource.FieldNames.ToHashSet(StringComparer.Ordinal);
        if (header.FirstOrDefault(h => !known.Contains(h)) is { } unknown)
            return ([], $"Unknown column '{unknown}'. {resource.IndefiniteCapitalized} has: {string.Join(", ", resource.FieldNames)}.");
        var rows = new List<JsonObject>();
        for (var line = 1; line < lines.Count; line++)
        {
            var cells = lines[line];
            if (cells.Count == 1 && cells[0].Length == 0) continue; // a blank line
            if (cells.Count != header.Count) return ([], $"Line {line + 1} has {cells.Count} cells; the header has {header.Count}.");
            var row = new JsonObject();
            for (var i = 0; i < header.Count; i++)
            {
                var (column, cell) = (header[i], cells[i]);
                if (resource.Relation(column) is { Many: true })
                {
                    row[column] = new JsonArray([.. cell.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(id => (JsonNode)JsonValue.Create(id))]);
                    continue;
                }
                if (cell.Length == 0)
                {
                    row[column] = null;
                    continue;
                }
                var type = resource.Fields.FirstOrDefault(f => f.Name == column)?.Type ?? FieldType.Text;
                row[column] = type switch
                {
                    FieldType.Integer when long.TryParse(cell, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var n) => JsonValue.Create(n),
                    FieldType.Number when double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) => JsonValue.Create(d),
                    FieldType.Boolean when bool.TryParse(cell, out var b) => JsonValue.Create(b),
                    _ => JsonValue.Create(cell), // a malformed number stays text: the validator names the row and column
                };
            }
            rows.Add(row);
        }
        return (rows, null);
    }

    /// <summary>Splits RFC 4180 text into records of cells: quoted cells may hold commas, doubled quotes and line breaks.</summary>
    private static IEnumerable<List<string>> CsvRecords(string text)
    {
        var cells = new List<string>();
        var cell = new StringBuilder();
        var quoted = false;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (quoted)
            {
                if (c != '"') cell.Append(c);
                else if (i + 1 < text.Length && text[i + 1] == '"') cell.Append(text[++i]);
                else quoted = false;
            }
            else if (c == '"') quoted = true;
            else if (c == ',')
            {
                cells.Add(cell.ToString());
                cell.Clear();
            }
            else if (c is '\r' or '\n')
            {
                if (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n') i++;
                cells.Add(cell.ToString());
                cell.Clear();
                yield return cells;
                cells = [];
            }
            else cell.Append(c);
        }
        if (cell.Length > 0 || cells.Count > 0)
        {
            cells.Add(cell.ToString());
            yield return cells;
        }
    }
}
