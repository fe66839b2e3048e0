using System.Globalization;
using System.Net.ServerSentEvents;
using System.Runtime.CompilerServices;
using System.Text;
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

namespace HubApi.Changes;

/// <summary>
/// The change feed: every create, update and delete in commit order, written in the same transaction as the
/// change itself, so that replaying it from the start rebuilds exactly the current set of records and versions.
/// </summary>
public static class ChangesApi
{
    private const int StreamBatch = 100;
    /// <summary>How often an idle stream looks for new changes.</summary>
    public static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(500);

    public static RouteGroupBuilder MapChanges(this IEndpointRouteBuilder app)
    {
        var resources = app.ServiceProvider.GetRequiredService<ResourceCatalog>().All.Select(r => r.Name).ToList();
        var group = app.MapGroup("/v1/changes").WithTags("Changes");

        group.MapGet("", List)
            .ValidateQuery(() => new ChangesQueryValidator(resources, stream: false))
            .WithName("ListChanges")
            .WithMetadata(new FeedEndpoint(Stream: false))
            .WithSummary("List changes")
            .WithDescription(
                "Every create, update and delete, in commit order, for partners to sync from: start with `after=0`, apply the items, " +
                "and follow `next` until it is null; later, poll with `after` set to the last `seq` applied. A deletion is a tombstone: " +
                "remove the record. Replaying the feed from the start yields exactly the current records and their versions.")
            .WithMetadata(new OperationDocs((operation, context) => Document(operation, context, resources, stream: false)))
            .Produces<ChangePage>(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified);

        group.MapGet("/stream", Stream)
            .ValidateQuery(() => new ChangesQueryValidator(resources, stream: true))
            .DisableRequestTimeout() // a stream stays open for as long as the client listens
            .WithName("StreamChanges")
            .WithMetadata(new FeedEndpoint(Stream: true))
            .WithSummary("Stream changes")
            .WithDescription(
                "The change feed as Server-Sent Events: each event has `id:` the change's `seq`, `event:` its op (created, updated, deleted) " +
                "and `data:` the change as `GET /v1/changes` lists it. Starts after `Last-Event-ID` (sent by EventSource when it " +
                "reconnects) or `after`, sends what is there, then waits for new changes until the client disconnects.")
            .WithMetadata(new OperationDocs((operation, context) =>
            {
                Document(operation, context, resources, stream: true);
                DocumentEvents(operation, context);
            }));

        return group;
    }

    private static JsonBody List(HttpContext http, IStore store)
    {
        var raw = QueryValidation.Validated(http);
        var after = ChangesQueryValidator.After(raw["after"]) ?? 0;
        var limit = raw["limit"] is { } l ? int.Parse(l, CultureInfo.InvariantCulture) : ChangesQueryValidator.DefaultLimit;
        var resources = ListQuery.Split(raw["resource"]).Distinct().ToList();
        var rows = store.Changes(after, resources, limit + 1).ToList();
        long? next = null;
        if (rows.Count > limit)
        {
            rows.RemoveAt(rows.Count - 1);
            next = rows[^1].Seq;
        }
        var link = Links.NextHeader(http.Request, "after", next?.ToString(CultureInfo.InvariantCulture));
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

    private static Results<ServerSentEventsResult<string>, ValidationProblem> Stream(HttpContext http, IStore store)
    {
        var raw = QueryValidation.Validated(http);
        var lastEventId = http.Request.Headers["Last-Event-ID"].ToString();
        long? resumeAt = null;
        if (lastEventId.Length > 0 && (resumeAt = ChangesQueryValidator.After(lastEventId)) is null)
            return Problems.Invalid("Last-Event-ID", "Last-Event-ID must be the id of an event this stream sent: a whole number, 0 or more.");

        var after = resumeAt ?? ChangesQueryValidator.After(raw["after"]) ?? 0;
        var resources = ListQuery.Split(raw["resource"]).Distinct().ToList();
        return TypedResults.ServerSentEvents(Events(store, after, resources, http.RequestAborted));
    }

    private static async IAsyncEnumerable<SseItem<string>> Events(IStore store, long after, List<string> resources,
        [EnumeratorCancellation] CancellationToken cancellation)
    {
        while (!cancellation.IsCancellationRequested)
        {
            var rows = store.Changes(after, resources, StreamBatch);
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

    /// <summary>One change as the feed (and the audit log) writes it.</summary>
    public static void Write(Utf8JsonWriter w, ChangeRow row)
    {
        w.WriteStartObject();
        w.WriteNumber("seq", row.Seq);
        w.WriteString("resource", row.Resource);
        w.WriteString("id", row.RecordId);
        w.WriteString("op", row.Op);
        w.WriteNumber("version", row.Version);
        w.WriteString("at", row.At);
        w.WriteString("by", row.By);
        w.WriteEndObject();
    }

    private static string Json(ChangeRow row) => Encoding.UTF8.GetString(JsonBody.Render(w => Write(w, row)).Body);

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
                    "event: created\ndata: {\"seq\":28,\"resource\":\"firms\",\"id\":\"acme\",\"op\":\"created\",\"version\":1,\"at\":\"2026-01-01T00:00:00.000Z\",\"by\":\"partner\"}\nid: 28\n\n"),
            },
        };
        context.SchemaRepository.Schemas.Remove("StringSseItem");
    }

    private static void Document(OpenApiOperation operation, OperationFilterContext context, List<string> resources, bool stream)
    {
        Schemas.AddResourceName(context.SchemaRepository, resources);
        if (!stream && operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
            ok.Description = "A page of changes in commit order; `next` is the `after` of the following page, null at the end of the feed.";
        operation.Parameters ??= [];
        void Add(string name, ParameterLocation location, string description, OpenApiSchema schema, JsonNode? example = null) =>
            operation.Parameters.Add(new OpenApiParameter { Name = name, In = location, Description = description, Schema = schema, Example = example });

        Add("after", ParameterLocation.Query, "Only changes after this `seq`; 0 (the default) starts from the beginning.",
            new OpenApiSchema { Type = JsonSchemaType.Integer, Format = "int64", Minimum = "0", Maximum = Schemas.MaxCounter, Default = JsonValue.Create(0) });
        if (!stream)
        {
            Add("limit", ParameterLocation.Query, $"Changes per page, 1 to {ChangesQueryValidator.MaxLimit}.", new OpenApiSchema
            {
                Type = JsonSchemaType.Integer, Format = "int32", Minimum = "1", Maximum = ChangesQueryValidator.MaxLimit.ToString(CultureInfo.InvariantCulture),
                Default = JsonValue.Create(ChangesQueryValidator.DefaultLimit),
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
