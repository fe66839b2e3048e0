using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Http;
using HubApi.OpenApi;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.History;

/// <summary>One version of a record in its history.</summary>
/// <param name="Seq">The change-feed row of the write that made it.</param>
/// <param name="Version">The record's version after that write; for a deletion, one past its last version.</param>
/// <param name="Op">What the write did.</param>
/// <param name="At">When it was committed (UTC).</param>
/// <param name="By">The name of the API key that wrote it (never the key itself); `seed` for the seed dataset, `cli` for `HubApi import`; null for writes made before writers were recorded.</param>
/// <param name="Changes">What changed: the JSON merge patch (RFC 7396) from the previous version to this one (from nothing for a creation, so the whole record; null for a deletion). Applied in order from the oldest, the patches give the record as it is, without its null members.</param>
public sealed record HistoryEntry(long Seq, long Version, ChangeOp Op, DateTime At, string? By, Dictionary<string, object?>? Changes);

/// <summary>A page of a record's history.</summary>
/// <param name="Items">Versions, newest first unless `order=oldest`.</param>
/// <param name="Next">The `cursor` of the following page; null on the last.</param>
public sealed record HistoryPage(IReadOnlyList<HistoryEntry> Items, string? Next);

/// <summary>A page of the audit log.</summary>
/// <param name="Items">Writes, newest first.</param>
/// <param name="Next">The `cursor` of the following page; null on the last.</param>
public sealed record AuditPage(IReadOnlyList<Change> Items, string? Next);

/// <summary>
/// Every version of every record, from the versions table and the change feed: <c>GET /v1/{resource}/{id}/history</c> for
/// each resource, and the audit log of writes by key, <c>GET /v1/audit</c>, for admin keys.
/// </summary>
public static class HistoryApi
{
    public static void MapHistory(this IEndpointRouteBuilder app)
    {
        var catalog = app.ServiceProvider.GetRequiredService<ResourceCatalog>();
        foreach (var resource in catalog.All)
        {
            app.MapGet($"/v1/{resource.Name}/{{id}}/history", (string id, HttpContext http, IStore store) => History(id, http, store, resource))
                .ValidateQuery(() => new HistoryQueryValidator())
                .WithTags(resource.Title)
                .WithName($"Get{resource.SingularTitle}History")
                .WithSummary($"List the versions of {resource.Indefinite}")
                // What every history shares (the entries, the order, the paging) is said once, in the shared components.
                .WithDescription($"Every write to the {resource.Singular}, even once deleted; `GET /v1/{resource.Name}/{{id}}?version=N` returns a version whole.")
                .WithMetadata(new OperationDocs((operation, context) => DocumentHistory(operation, context, resource)), new SharedAnswer("History"))
                .Produces<HistoryPage>(StatusCodes.Status200OK)
                .Produces(StatusCodes.Status304NotModified)
                .ProducesProblem(StatusCodes.Status404NotFound);
        }

        var names = catalog.All.Select(r => r.Name).ToList();
        app.MapGet("/v1/audit", (HttpContext http, IStore store) => Audit(http, store))
            .ValidateQuery(() => new HistoryQueryValidator(names))
            .RequireAuthorization(ApiKeyAuthentication.AdminPolicy)
            .WithTags("Changes")
            .WithName("ListAudit")
            .WithSummary("List writes by key")
            .WithDescription(
                "Every write, newest first, with the name of the key that made it: filter by `key` (key names) and `resource`. Needs an API key " +
                "with the `admin` scope (401 without a key, 403 without the scope). Cursor-paged: follow `next` (or `Link: rel=\"next\"`).")
            .WithMetadata(new OperationDocs((operation, context) => DocumentAudit(operation, context, names)))
            .Produces<AuditPage>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden);
    }

    private static Results<JsonBody, ProblemHttpResult> History(string id, HttpContext http, IStore store, Resource resource)
    {
        var raw = QueryValidation.Validated(http);
        var limit = HistoryQueryValidator.LimitOf(raw["limit"]);
        var oldestFirst = raw["order"] == HistoryQueryValidator.OldestFirst;
        var (page, before) = store.History(resource, id, HistoryQueryValidator.Cursor(raw["cursor"]), oldestFirst, limit + 1);
        if (page.Count == 0 && raw["cursor"] is null) return Problems.NotFound(resource, id);
        var rows = page.ToList();
        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Seq.ToString(CultureInfo.InvariantCulture);
            // The version before the page's oldest is now the one just dropped (newest first) or still the one read.
            if (!oldestFirst) before = page[limit];
        }

        // Each version's change is told against the one before it, in the order of the feed.
        var ascending = rows.OrderBy(r => r.Seq).ToList();
        var changes = new Dictionary<long, JsonNode?>();
        var previous = Render(resource, before);
        foreach (var row in ascending)
        {
            var current = Render(resource, row);
            changes[row.Seq] = MergePatch.Diff(previous, current);
            previous = current;
        }
        return JsonBody.Render(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var row in rows)
            {
                w.WriteStartObject();
                w.WriteNumber("seq", row.Seq);
                w.WriteNumber("version", row.Version);
                w.WriteString("op", row.Op);
                w.WriteString("at", row.At);
                w.WriteString("by", row.By);
                w.WritePropertyName("changes");
                if (changes[row.Seq] is { } patch) patch.WriteTo(w);
                else w.WriteNullValue();
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("next", next);
            w.WriteEndObject();
        }, Links.NextHeader(http.Request, "cursor", next));
    }

    /// <summary>A version as its GET renders it, as JSON to diff; null for a deletion or when there is none.</summary>
    private static JsonObject? Render(Resource resource, VersionRow? row) =>
        row?.Record is { } snapshot
            ? JsonNode.Parse(JsonBody.Render(w => RecordJson.WriteRecord(w, resource, RecordSnapshot.Read(resource, snapshot))).Body)!.AsObject()
            : null;

    private static JsonBody Audit(HttpContext http, IStore store)
    {
        var raw = QueryValidation.Validated(http);
        var limit = HistoryQueryValidator.LimitOf(raw["limit"]);
        var rows = store.Audit([.. ListQuery.Split(raw["key"]).Distinct()], [.. ListQuery.Split(raw["resource"]).Distinct()],
            HistoryQueryValidator.Cursor(raw["cursor"]), limit + 1).ToList();
        string? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Seq.ToString(CultureInfo.InvariantCulture);
        }
        return JsonBody.Render(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var row in rows) Changes.ChangesApi.Write(w, row);
            w.WriteEndArray();
            w.WriteString("next", next);
            w.WriteEndObject();
        }, Links.NextHeader(http.Request, "cursor", next));
    }

    /// <summary>The history's and the audit log's paging: the lists' `limit`, and a cursor that is a change-feed `seq`.</summary>
    private static void AddPaging(OpenApiOperation operation, OpenApiDocument document)
    {
        operation.Parameters ??= [];
        operation.Parameters.Add(Schemas.Limit(document));
        operation.Parameters.Add(Schemas.Shared(document, "SeqCursor", () => Schemas.Query("cursor", "The `next` value of the previous page.",
            new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9]+$", MaxLength = 19 })));
        // Pages are linked as the lists' are.
        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
        {
            ok.Headers ??= new Dictionary<string, IOpenApiHeader>();
            ok.Headers[StandardResponsesFilter.LinkHeader] = new OpenApiHeaderReference(StandardResponsesFilter.LinkHeader, document);
        }
    }

    private static void CompletePage(SchemaRepository repository, string page)
    {
        Schemas.Complete(repository, page, ["items", "next"],
            ("items", p => p.MaxItems = HistoryQueryValidator.MaxLimit),
            ("next", p => { p.Pattern = "^[0-9]+$"; p.MaxLength = 19; }));
    }

    private static void DocumentHistory(OpenApiOperation operation, OperationFilterContext context, Resource resource)
    {
        var document = context.Document;
        if (operation.Parameters?.FirstOrDefault(p => p.Name == "id") is { } id)
            operation.Parameters[operation.Parameters.IndexOf(id)] = Schemas.IdParameter(document, resource);
        AddPaging(operation, document);
        operation.Parameters!.Add(Schemas.Shared(document, "HistoryOrder", () => Schemas.Query("order", "`newest` first (the default) or `oldest` first.",
            new OpenApiSchema
            {
                Type = JsonSchemaType.String, Enum = [JsonValue.Create(HistoryQueryValidator.NewestFirst), JsonValue.Create(HistoryQueryValidator.OldestFirst)],
                Default = JsonValue.Create(HistoryQueryValidator.NewestFirst),
            })));
        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
        {
            ok.Description = "A page of the record's versions: each with the key that wrote it, when, and what changed as a JSON merge patch from " +
                             "the version before. Cursor-paged: follow `next` (or `Link: rel=\"next\"`).";
        }
        CompletePage(context.SchemaRepository, nameof(HistoryPage));
        Schemas.Complete(context.SchemaRepository, nameof(HistoryEntry), ["seq", "version", "op", "at", "by", "changes"],
            ("seq", p => Schemas.CounterFrom(p, 1)),
            ("version", p => Schemas.CounterFrom(p, 1)),
            ("by", p => p.MaxLength = 100),
            ("changes", p =>
            {
                p.Type = JsonSchemaType.Object | JsonSchemaType.Null;
                p.AdditionalProperties = new OpenApiSchema();
                p.MaxProperties = 64; // a record's properties: none has as many
            }));
    }

    private static void DocumentAudit(OpenApiOperation operation, OperationFilterContext context, List<string> resources)
    {
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.Scheme, context.Document)] = [] }];
        AddPaging(operation, context.Document);
        Schemas.AddResourceName(context.SchemaRepository, resources);
        operation.Parameters!.Add(Schemas.List("key", "Only writes by these keys (their names).",
            new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 100 }, example: "partner"));
        operation.Parameters.Add(Schemas.List("resource", "Only writes to these resources.",
            new OpenApiSchemaReference(Schemas.ResourceName, context.Document), example: "firms"));
        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok) ok.Description = "A page of writes, newest first.";
        CompletePage(context.SchemaRepository, nameof(AuditPage));
    }
}
