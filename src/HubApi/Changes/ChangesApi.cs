using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Dapper;
using FluentValidation;
using HubApi.Data;
using HubApi.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Data.Sqlite;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.Changes;

/// <summary>One write to one record, in commit order.</summary>
/// <param name="Seq">The change's position in the feed: pass the last one applied as `after` to resume.</param>
/// <param name="Resource">The resource written, such as firms.</param>
/// <param name="Id">The record's id.</param>
/// <param name="Op">What happened to the record.</param>
/// <param name="Version">The record's version after the change; for a deletion, one past its last version.</param>
/// <param name="At">When the change was committed (UTC).</param>
public sealed record Change(long Seq, string Resource, string Id, ChangeOp Op, long Version, DateTime At);

/// <summary>What a change did: created and updated records can be fetched at their version; deleted ones are gone.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChangeOp>))]
public enum ChangeOp
{
    [JsonStringEnumMemberName("created")] Created,
    [JsonStringEnumMemberName("updated")] Updated,
    [JsonStringEnumMemberName("deleted")] Deleted,
}

/// <summary>A page of the change feed.</summary>
/// <param name="Items">Changes in commit order.</param>
/// <param name="Next">The `after` of the following page, or null when this page reaches the end of the feed (poll again later with the last `seq`).</param>
public sealed record ChangePage(IReadOnlyList<Change> Items, long? Next);

/// <summary>
/// The change feed: every create, update and delete in commit order, written in the same transaction as the
/// change itself, so that replaying it from the start rebuilds exactly the current set of records and versions.
/// </summary>
public static class ChangesApi
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;
    private const int StreamBatch = 100;
    /// <summary>How often an idle stream looks for new changes.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    private static readonly ChangesQueryValidator ListValidator = new(stream: false);
    private static readonly ChangesQueryValidator StreamValidator = new(stream: true);

    public static RouteGroupBuilder MapChanges(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1/changes").WithTags("Changes");

        group.MapGet("", List)
            .WithName("ListChanges")
            .WithSummary("List changes")
            .WithDescription(
                "Every create, update and delete, in commit order, for partners to sync from: start with `after=0`, apply the items, " +
                "and follow `next` until it is null; later, poll with `after` set to the last `seq` applied. A deletion is a tombstone: " +
                "remove the record. Replaying the feed from the start yields exactly the current records and their versions.")
            .WithMetadata(new OperationDocs((operation, context) => Document(operation, context, stream: false)))
            .Produces<ChangePage>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified);

        group.MapGet("/stream", Stream)
            .DisableRequestTimeout() // a stream stays open for as long as the client listens
            .WithName("StreamChanges")
            .WithSummary("Stream changes")
            .WithDescription(
                "The change feed as Server-Sent Events: each event has `id:` the change's `seq`, `event:` its op (created, updated, deleted) " +
                "and `data:` the change as `GET /v1/changes` lists it. Starts after `Last-Event-ID` (sent by EventSource when it " +
                "reconnects) or `after`, sends what is there, then waits for new changes until the client disconnects.")
            .WithMetadata(new OperationDocs((operation, context) =>
            {
                Document(operation, context, stream: true);
                DocumentEvents(operation, context);
            }));

        return group;
    }

    private static Results<JsonBody, ValidationProblem> List(HttpContext http, Db db)
    {
        var raw = RawQuery.From(http.Request);
        var validation = ListValidator.Validate(raw);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        var after = ChangesQueryValidator.After(raw["after"]) ?? 0;
        var limit = raw["limit"] is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : DefaultLimit;
        var resources = ListQuery.Split(raw["resource"]).Distinct().ToList();
        List<ChangeRow> rows;
        using (var connection = db.Open()) rows = Read(connection, after, resources, limit + 1);
        long? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Seq;
        }
        var link = next is { } n ? $"<{NextUrl(http.Request, n)}>; rel=\"next\"" : null;
        return JsonBody.Render(w =>
        {
            w.WriteStartObject();
            w.WriteStartArray("items");
            foreach (var row in rows) Write(w, row);
            w.WriteEndArray();
            if (next is { } value) w.WriteNumber("next", value);
            else w.WriteNull("next");
            w.WriteEndObject();
        }, link);
    }

    private static Results<ServerSentEventsResult<string>, ValidationProblem> Stream(HttpContext http, Db db)
    {
        var raw = RawQuery.From(http.Request);
        var validation = StreamValidator.Validate(raw);
        var errors = validation.ToDictionary();
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        long? resumeAt = null;
        if (lastEventId.Length > 0 && (resumeAt = ChangesQueryValidator.After(lastEventId)) is null)
            errors["Last-Event-ID"] = ["Last-Event-ID must be the id of an event this stream sent: a whole number, 0 or more."];
        if (errors.Count > 0) return TypedResults.ValidationProblem(errors);

        var after = resumeAt ?? ChangesQueryValidator.After(raw["after"]) ?? 0;
        var resources = ListQuery.Split(raw["resource"]).Distinct().ToList();
        return TypedResults.ServerSentEvents(Events(db, after, resources, http.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(Db db, long after, List<string> resources,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            List<ChangeRow> rows;
            using (var connection = db.Open()) rows = Read(connection, after, resources, StreamBatch);
            foreach (var row in rows)
            {
                yield return new SseItem<string>(Json(row), row.Op) { EventId = row.Seq.ToString(CultureInfo.InvariantCulture) };
                after = row.Seq;
            }
            if (rows.Count == StreamBatch) continue;
            try
            {
                await Task.Delay(PollInterval, cancellation);
            }
            catch (OperationCanceledException)
            {
                yield break;
            }
        }
    }

    private sealed record ChangeRow(long Seq, string Resource, string RecordId, string Op, long Version, string At);

    private static List<ChangeRow> Read(SqliteConnection connection, long after, List<string> resources, int limit)
    {
        const string all = """
            select seq, resource, record_id as RecordId, op, version, at
            from changes where seq > @after order by seq limit @limit
            """;
        const string some = """
            select seq, resource, record_id as RecordId, op, version, at
            from changes where seq > @after and resource in @resources order by seq limit @limit
            """;
        return [.. connection.Query<ChangeRow>(resources.Count == 0 ? all : some, new { after, resources, limit })];
    }

    private static void Write(Utf8JsonWriter w, ChangeRow row)
    {
        w.WriteStartObject();
        w.WriteNumber("seq", row.Seq);
        w.WriteString("resource", row.Resource);
        w.WriteString("id", row.RecordId);
        w.WriteString("op", row.Op);
        w.WriteNumber("version", row.Version);
        w.WriteString("at", row.At);
        w.WriteEndObject();
    }

    private static string Json(ChangeRow row) => Encoding.UTF8.GetString(JsonBody.Render(w => Write(w, row)).Body);

    private static string NextUrl(HttpRequest request, long after)
    {
        var query = request.Query.Where(p => p.Key != "after")
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new("after", after.ToString(CultureInfo.InvariantCulture)));
        return QueryHelpers.AddQueryString($"{request.Scheme}://{request.Host}{request.PathBase}{request.Path}", query);
    }

    /// <summary>The events are text, not the SseItem object the result type would suggest.</summary>
    private static void DocumentEvents(OpenApiOperation operation, OperationFilterContext context)
    {
        if (operation.Responses?.GetValueOrDefault("200") is not OpenApiResponse ok) return;
        ok.Description = "A stream of change events, one per change, until the client disconnects.";
        ok.Content = new Dictionary<string, OpenApiMediaType>
        {
            ["text/event-stream"] = new()
            {
                Schema = new OpenApiSchema
                {
                    Type = JsonSchemaType.String,
                    Description = "Events of the form `id: <seq>`, `event: <op>`, `data: <change as JSON>`, each ended by a blank line.",
                },
                Example = JsonValue.Create(
                    "event: created\ndata: {\"seq\":28,\"resource\":\"firms\",\"id\":\"acme\",\"op\":\"created\",\"version\":1,\"at\":\"2026-01-01T00:00:00.000Z\"}\nid: 28\n\n"),
            },
        };
        context.SchemaRepository.Schemas.Remove("StringSseItem");
    }

    private static void Document(OpenApiOperation operation, OperationFilterContext context, bool stream)
    {
        Schemas.AddResourceName(context.SchemaRepository);
        if (!stream && operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
            ok.Description = "A page of changes in commit order; `next` is the `after` of the following page, null at the end of the feed.";
        operation.Parameters ??= [];
        void Add(string name, ParameterLocation location, string description, OpenApiSchema schema, JsonNode? example = null) =>
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = location, Description = description, Schema = schema, Example = example });

        Add("after", ParameterLocation.Query, "Only changes after this `seq`; 0 (the default) starts from the beginning.",
            new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0", Maximum = Schemas.MaxCounter, Default = JsonValue.Create(0) });
        if (!stream)
        {
            Add("limit", ParameterLocation.Query, $"Changes per page, 1 to {MaxLimit}.", new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = MaxLimit.ToString(CultureInfo.InvariantCulture),
                Default = JsonValue.Create(DefaultLimit),
            });
        }
        operation.Parameters.Add(Schemas.List("resource", "Only changes to these resources.",
            new OpenApiSchemaReference(Schemas.ResourceName, context.Document), example: "firms,zones"));
        if (stream)
        {
            Add("Last-Event-ID", ParameterLocation.Header, "The id of the last event received: the stream resumes after it (takes precedence over `after`).",
                new OpenApiSchema { Type = JsonSchemaType.String, Pattern = "^[0-9]+$", MaxLength = 19 });
        }
    }
}

/// <summary>Validates the change feed's query: known parameters only, each given once and well-formed.</summary>
public sealed class ChangesQueryValidator : AbstractValidator<RawQuery>
{
    public ChangesQueryValidator(bool stream)
    {
        string[] allowed = stream ? ["after", "resource"] : ["after", "limit", "resource"];
        var names = ResourceCatalog.All.Select(r => r.Name).ToList();

        RuleFor(q => q).Custom((q, context) =>
        {
            foreach (var (name, values) in q.Values)
            {
                if (!allowed.Contains(name))
                    context.AddFailure(name.Length <= 40 ? name : name[..40], $"Unknown parameter. Allowed: {string.Join(", ", allowed)}.");
                else if (values.Count > 1)
                    context.AddFailure(name, $"'{name}' is given {values.Count} times; give it once.");
            }
        });
        RuleFor(q => q["after"]).Must(v => After(v) is not null).When(q => q["after"] is not null)
            .OverridePropertyName("after").WithMessage("after must be a whole number, 0 or more: the seq of the last change applied.");
        if (!stream)
        {
            RuleFor(q => q["limit"])
                .Must(v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= ChangesApi.MaxLimit)
                .When(q => q["limit"] is not null)
                .OverridePropertyName("limit").WithMessage($"limit must be a whole number from 1 to {ChangesApi.MaxLimit}.");
        }
        RuleFor(q => q["resource"]).Must(v => ListQuery.Split(v).ToList() is { Count: > 0 } list && list.All(names.Contains)).When(q => q["resource"] is not null)
            .OverridePropertyName("resource").WithMessage($"resource takes resource names, comma-separated: {string.Join(", ", names)}.");
    }

    /// <summary>A non-negative sequence number, or null.</summary>
    public static long? After(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
