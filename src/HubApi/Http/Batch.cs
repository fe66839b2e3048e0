using System.Text.Json;
using System.Text.Json.Nodes;
using FluentValidation.Results;
using HubApi.Data;
using HubApi.Query;
using HubApi.Resources;

namespace HubApi.Http;

/// <summary>How a batch treats a row whose id is taken: refused (create, the default) or replaced (upsert).</summary>
public enum BatchMode { Create, Upsert }

/// <summary>What a batch did to one row's record.</summary>
/// <param name="Index">The row's position in the batch, from 0.</param>
/// <param name="Id">The record's id.</param>
/// <param name="Op">`created`, or `updated` for a record an upsert replaced.</param>
/// <param name="Version">The record's version after the batch.</param>
public sealed record BatchItem(int Index, string Id, string Op, long Version);

/// <summary>A batch as written: how many records it created and replaced, and what became of each row, in row order.</summary>
/// <param name="Created">Records created.</param>
/// <param name="Updated">Records replaced (mode=upsert).</param>
/// <param name="Items">One entry per row, in row order.</param>
public sealed record BatchSummary(int Created, int Updated, IReadOnlyList<BatchItem> Items);

/// <summary>A batch's answer, or an Idempotency-Key replay of it.</summary>
public sealed class BatchResult(byte[] body, bool replayed = false) : IResult, IStatusCodeHttpResult
{
    int? IStatusCodeHttpResult.StatusCode => StatusCodes.Status200OK;
    public byte[] Body => body;

    public Task ExecuteAsync(HttpContext http)
    {
        var response = http.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.Headers.CacheControl = "no-store";
        if (replayed) response.Headers["Idempotent-Replayed"] = "true";
        response.ContentType = "application/json; charset=utf-8";
        response.ContentLength = body.Length;
        return response.Body.WriteAsync(body).AsTask();
    }
}

/// <summary>
/// Why a batch was refused, as a client hears it: the status, the detail, the row it names (null for the body as a
/// whole) and, for 400, the errors keyed by row and member (<c>[2].name</c>).
/// </summary>
public sealed record BatchRefusal(int Status, string Detail, int? Row = null, IDictionary<string, string[]>? Errors = null);

/// <summary>
/// Writes many records of one resource at once, all or nothing: the mechanism behind <c>POST /v1/{resource}/batch</c>
/// and <c>HubApi import</c>. Every row is checked by the resource's <see cref="RecordValidator"/> before the write
/// begins; then, inside one write (one transaction, one job of the group-commit queue on SQLite), each row's references
/// are checked and the row is created or replaced through the same store calls as a single write, so each record gets
/// its own change-feed row, version and cache retirement. The first refusal undoes the lot.
/// </summary>
public static class Batch
{
    /// <summary>Most rows one batch takes.</summary>
    public const int MaxRows = 10_000;

    /// <summary>Most bytes one batch body takes (16 MiB: 10,000 rows of about 1.6 KB).</summary>
    public const int MaxBodyBytes = 16 * 1024 * 1024;

    public const string NdjsonMediaType = "application/x-ndjson";

    /// <summary>The rows of a body: a JSON array of objects, or NDJSON (one object per line; blank lines are skipped).</summary>
    public static (List<JsonObject> Rows, BatchRefusal? Refusal) Parse(ReadOnlySpan<byte> body, bool ndjson, string indefinite, int maxRows = MaxRows)
    {
        var rows = new List<JsonObject>();
        if (!ndjson)
        {
            // A row is read as a single write's body is (WriteBodies.ParseJson); an array of rows is one level deeper.
            if (WriteBodies.ParseJson(body, WriteBodies.MaxDepth + 1, out var node) is { } problem) return (rows, Refusal(problem));
            if (node is not JsonArray array) return (rows, new(400, $"The body must be a JSON array of records, each {indefinite} (or NDJSON, sent as {NdjsonMediaType})."));
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is not JsonObject row) return (rows, new(400, $"Row {i} is not a JSON object: each row is {indefinite}.", i));
                rows.Add(row);
            }
        }
        else
        {
            var line = 0;
            foreach (var range in body.Split((byte)'\n'))
            {
                line++;
                var text = body[range].TrimEnd((byte)'\r');
                if (text.Trim((byte)' ').IsEmpty) continue;
                if (WriteBodies.ParseJson(text, WriteBodies.MaxDepth, out var node) is { } problem)
                    return (rows, Refusal(problem) with { Detail = $"Row {rows.Count} (line {line}): {problem.ProblemDetails.Detail}", Row = rows.Count });
                if (node is not JsonObject row)
                    return (rows, new(400, $"Row {rows.Count} (line {line}) is not a JSON object: each line is {indefinite}.", rows.Count));
                rows.Add(row);
            }
        }
        if (rows.Count == 0) return (rows, new(400, "The batch has no rows: send at least one record."));
        if (rows.Count > maxRows) return (rows, new(413, $"A batch takes at most {maxRows:N0} rows; this one has {rows.Count:N0}. Split it.", null));
        return (rows, null);
    }

    private static BatchRefusal Refusal(Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult problem) =>
        new(problem.StatusCode, problem.ProblemDetails.Detail ?? problem.ProblemDetails.Title ?? "The body cannot be read.");

    /// <summary>
    /// Every rule that needs no database, for every row: an id derived from the name where none is given, and in upsert
    /// mode the <c>version</c> a row may carry (taken out of the row and returned by index). Errors are keyed
    /// <c>[index].member</c>.
    /// </summary>
    public static (Dictionary<int, long> Versions, BatchRefusal? Refusal) Validate(List<JsonObject> rows, RecordValidator validator, BatchMode mode)
    {
        var versions = new Dictionary<int, long>();
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            if (mode == BatchMode.Upsert && row["version"] is { } version)
            {
                row.Remove("version");
                if (version is JsonValue v && v.GetValueKind() == JsonValueKind.Number && v.TryGetValue<long>(out var expected) && expected >= 1)
                    versions[i] = expected;
                else errors[$"[{i}].version"] = ["version, when given, must be the whole number (1 or more) of the version the row replaces."];
            }
            if (row["id"] is null && row["name"] is JsonValue name && name.GetValueKind() == JsonValueKind.String && Ids.From(name.GetValue<string>()) is { } slug)
                row["id"] = slug;
            Add(errors, i, validator.Validate(new RecordCandidate(row, null)));
        }
        return (versions, errors.Count > 0 ? Invalid(errors) : null);
    }

    /// <summary>
    /// Writes validated rows inside <paramref name="write"/>; returns what each row became and the changes to announce, or
    /// the refusal (then the caller disposes the write without completing it, and nothing is kept).
    /// </summary>
    /// <remarks>
    /// <c>changes</c> says what a write to one record changes (the response cache's <c>Changes</c>), for
    /// <see cref="IWriteSession.Complete"/>; <c>progress</c> is told how many rows are written, now and then (imports show it).
    /// </remarks>
    public static (List<BatchItem> Items, string[] Changed, BatchRefusal? Refusal) Write(IWriteSession write, Resource resource, RecordValidator validator,
        List<JsonObject> rows, Dictionary<int, long> versions, BatchMode mode, Func<Resource, string, Row?, JsonObject?, string[]> changes,
        Action<int>? progress = null)
    {
        var items = new List<BatchItem>(rows.Count);
        var changed = new HashSet<string>(StringComparer.Ordinal);
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        var versionColumn = resource.ColumnIndex("version");
        for (var i = 0; i < rows.Count; i++)
        {
            var row = rows[i];
            var id = row["id"]!.GetValue<string>();
            // What it refers to must exist as this transaction sees it: earlier rows of the batch included.
            var references = validator.ValidateReferences(new RecordCandidate(row, null) { Exists = write.Exists });
            if (!references.IsValid)
            {
                Add(errors, i, references);
                continue;
            }
            if (errors.Count > 0) continue; // the batch is refused already: only more row errors are worth finding

            var current = write.Get(resource, id);
            var expected = versions.TryGetValue(i, out var v) ? v : (long?)null;
            if (current is not null)
            {
                if (mode == BatchMode.Create)
                    return Refuse(409, i, $"Row {i}: there is already {resource.Indefinite} with id '{id}'; give another id, or send the batch with mode=upsert to replace it.");
                var version = Convert.ToInt64(current.Values[versionColumn]);
                if (expected is { } e && e != version)
                    return Refuse(412, i, $"Row {i}: the {resource.Singular} '{id}' is at version {version}, not {e}: read it again and reapply the change.");
                write.Update(resource, id, row, current);
                items.Add(new BatchItem(i, id, "updated", version + 1));
                changed.UnionWith(changes(resource, id, current, row));
            }
            else
            {
                if (expected is { } e)
                    return Refuse(412, i, $"Row {i}: there is no {resource.Singular} '{id}' at version {e} to replace.");
                if (write.WasUsed(resource, id))
                    return Refuse(409, i, $"Row {i}: the id '{id}' belonged to {resource.Indefinite} that was deleted; ids are never reused, so give another.");
                write.Insert(resource, row);
                items.Add(new BatchItem(i, id, "created", 1));
                changed.UnionWith(changes(resource, id, null, row));
            }
            if ((i + 1) % 1000 == 0) progress?.Invoke(i + 1);
        }
        if (errors.Count > 0) return ([], [], Invalid(errors));
        progress?.Invoke(rows.Count);
        return (items, [.. changed], null);
    }

    private static (List<BatchItem>, string[], BatchRefusal) Refuse(int status, int row, string detail) => ([], [], new BatchRefusal(status, detail, row));

    private static BatchRefusal Invalid(Dictionary<string, string[]> errors)
    {
        var rows = errors.Keys.Select(k => k[1..k.IndexOf(']')]).Distinct().ToList();
        return new BatchRefusal(400, $"{rows.Count} row(s) are not valid (the first: row {rows[0]}); nothing was written.", int.Parse(rows[0]), errors);
    }

    private static void Add(Dictionary<string, string[]> errors, int index, ValidationResult result)
    {
        foreach (var (member, messages) in result.ToDictionary())
        {
            var key = member.Length == 0 ? $"[{index}]" : $"[{index}].{member}";
            errors[key] = errors.TryGetValue(key, out var earlier) ? [.. earlier, .. messages] : messages;
        }
    }

    /// <summary>The answer to a batch (<see cref="BatchSummary"/>).</summary>
    public static byte[] Render(List<BatchItem> items) =>
        JsonSerializer.SerializeToUtf8Bytes(new BatchSummary(items.Count(i => i.Op == "created"), items.Count(i => i.Op == "updated"), items), SummaryJson);

    private static readonly JsonSerializerOptions SummaryJson = new(JsonSerializerDefaults.Web);
}
