using System.Globalization;
using System.Text.Json.Nodes;
using HubApi.Data;
using HubApi.Http;
using HubApi.OpenApi;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;
using static HubApi.Http.Problems;

namespace HubApi.Batches;

/// <summary><c>POST /v1/{resource}/batch</c> for every resource: many records in one all-or-nothing write (<see cref="Batch"/>).</summary>
public static class BatchApi
{
    /// <summary>A batch may take longer than one record's write: 10,000 rows in a few seconds, more on a busy machine.</summary>
    public static readonly TimeSpan Timeout = TimeSpan.FromSeconds(120);

    public static void MapBatches(this IEndpointRouteBuilder app)
    {
        var catalog = app.ServiceProvider.GetRequiredService<ResourceCatalog>();
        foreach (var resource in catalog.All) app.MapBatch(resource, catalog);
    }

    private static void MapBatch(this IEndpointRouteBuilder app, Resource resource, ResourceCatalog catalog)
    {
        // Built on the first batch, not at start-up (see QueryValidation).
        var validator = new Lazy<RecordValidator>(() => RecordValidator.For(resource, catalog.Sources));
        app.MapPost($"/v1/{resource.Name}/batch", (HttpContext http, IStore store, ResponseCache cache) => Write(http, store, cache, resource, validator.Value))
            .ValidateQuery(() => new BatchQueryValidator())
            .WithTags(resource.Title)
            .WithName($"Batch{resource.Title}")
            .WithSummary($"Create or replace many {resource.Name}")
            // What every batch shares (the modes, the summary, the key) is said once, in the shared components.
            .WithDescription(
                $"Up to {Batch.MaxRows:N0} {resource.Name}, each as `POST /v1/{resource.Name}` takes it, in one all-or-nothing transaction.")
            .WithMetadata(new OperationDocs((operation, context) => Document(operation, context, resource)), new BatchEndpoint(resource),
                new SharedAnswer(nameof(BatchSummary)))
            .Produces<BatchSummary>(StatusCodes.Status200OK)
            .ProducesProblem(StatusCodes.Status408RequestTimeout)
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status415UnsupportedMediaType)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity)
            .RequireAuthorization(ApiKeyAuthentication.WritePolicy)
            .RequireCors(HttpServices.WriteCorsPolicy)
            .WithRequestTimeout(Timeout);
    }

    private static async Task<Results<BatchResult, ValidationProblem, ProblemHttpResult>> Write(
        HttpContext http, IStore store, ResponseCache cache, Resource resource, RecordValidator validator)
    {
        var request = http.Request;
        var ndjson = WriteBodies.RequireMediaType(request, Batch.NdjsonMediaType) is null;
        if (!ndjson && WriteBodies.RequireMediaType(request, WriteBodies.JsonMediaType) is not null)
        {
            return Problem(StatusCodes.Status415UnsupportedMediaType,
                $"Send the batch as a JSON array ({WriteBodies.JsonMediaType}) or one record per line ({Batch.NdjsonMediaType}), in UTF-8.");
        }
        string? key = null;
        if (request.Headers.TryGetValue(Idempotency.Header, out var keyValue))
        {
            key = keyValue.ToString();
            if (Idempotency.Check(key) is { } error) return Invalid(Idempotency.Header, error);
        }
        var mode = QueryValidation.Validated(http)["mode"] == "upsert" ? BatchMode.Upsert : BatchMode.Create;

        var (body, tooLarge) = await WriteBodies.ReadBody(request, Batch.MaxBodyBytes);
        if (tooLarge is not null) return tooLarge;
        var (rows, refusal) = Batch.Parse(body.Span, ndjson, resource.Indefinite);
        if (refusal is not null) return Refused(refusal);
        var (versions, invalid) = Batch.Validate(rows, validator, mode);
        if (invalid is not null) return Refused(invalid);

        var by = ApiKeyAuthentication.KeyName(http.User);
        var owner = http.User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)!.Value;
        var requestHash = key is null ? null : Idempotency.RequestHash(request, body.Span);
        await using var write = await store.BeginWriteAsync(by, http.RequestAborted);
        if (key is not null && write.FindResponse(owner, key, DateTime.UtcNow - Idempotency.Lifetime) is { } stored)
        {
            return stored.RequestHash == requestHash
                ? new BatchResult(stored.Body, replayed: true)
                : Problem(StatusCodes.Status422UnprocessableEntity,
                    $"This {Idempotency.Header} was used for a different request in the last {Idempotency.Lifetime.TotalHours:0} hours; " +
                    "use a new key for a new request.");
        }

        var (items, changed, refused) = Batch.Write(write, resource, validator, rows, versions, mode, cache.Changes);
        if (refused is not null) return Refused(refused); // disposed without Complete: nothing is kept
        var answer = Batch.Render(items);
        if (key is not null) write.SaveResponse(owner, key, new StoredResponse(requestHash!, StatusCodes.Status200OK, null, null, answer));
        write.Complete(changed);
        return new BatchResult(answer);
    }

    private static Results<BatchResult, ValidationProblem, ProblemHttpResult> Refused(BatchRefusal refusal)
    {
        var extensions = new Dictionary<string, object?>();
        if (refusal.Row is { } row) extensions["row"] = row;
        if (refusal.Errors is { } errors)
            return TypedResults.ValidationProblem(errors, detail: refusal.Detail, extensions: extensions);
        return Problem(refusal.Status, refusal.Detail, extensions,
            title: refusal.Status == StatusCodes.Status413PayloadTooLarge ? "Content Too Large" : null);
    }

    private static void Document(OpenApiOperation operation, OperationFilterContext context, Resource resource)
    {
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.Scheme, context.Document)] = [] }];
        var row = ResourceSchemas.For(context).Input(resource);
        operation.RequestBody = new OpenApiRequestBody
        {
            Required = true,
            Description = $"At most {Batch.MaxRows:N0} rows and {Batch.MaxBodyBytes / 1024 / 1024} MiB (413 over either).",
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [WriteBodies.JsonMediaType] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.Array, Items = row, MinItems = 1, MaxItems = Batch.MaxRows } },
                // One record per line, each as the array's items.
                [Batch.NdjsonMediaType] = new() { Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = Batch.MaxBodyBytes } },
            },
        };
        operation.Parameters ??= [];
        operation.Parameters.Add(Schemas.Shared(context.Document, "BatchMode", () => new OpenApiParameter
        {
            Name = "mode",
            In = ParameterLocation.Query,
            Description = "Every row is validated before anything is written: one bad row refuses the batch (400, `errors` keyed as `[2].name`). " +
                          "`create` (the default): a row whose id exists refuses the batch (409). `upsert`: such a row replaces the record, and may " +
                          "carry the `version` it replaces (412 when the record is at another). A refused batch writes nothing; the problem's " +
                          "`row` names the row.",
            Schema = new OpenApiSchema
            {
                Type = JsonSchemaType.String, Enum = [JsonValue.Create("create"), JsonValue.Create("upsert")],
                Default = JsonValue.Create("create"),
            },
        }));
        operation.Parameters.Add(WriteOperationFilter.IdempotencyKey(context.Document));
        Schemas.Complete(context.SchemaRepository, nameof(BatchSummary), ["created", "updated", "items"],
            ("created", p => { p.Minimum = "0"; p.Maximum = Batch.MaxRows.ToString(CultureInfo.InvariantCulture); }),
            ("updated", p => { p.Minimum = "0"; p.Maximum = Batch.MaxRows.ToString(CultureInfo.InvariantCulture); }),
            ("items", p => p.MaxItems = Batch.MaxRows));
        Schemas.Complete(context.SchemaRepository, nameof(BatchItem), ["index", "id", "op", "version"],
            ("index", p => { p.Minimum = "0"; p.Maximum = (Batch.MaxRows - 1).ToString(CultureInfo.InvariantCulture); }),
            ("id", p => { p.Pattern = Schemas.SlugPattern; p.MaxLength = Resource.IdMaxLength; }),
            ("op", p => { p.Enum = [JsonValue.Create("created"), JsonValue.Create("updated")]; p.MaxLength = null; }),
            ("version", p => Schemas.CounterFrom(p, 1)));
        if (operation.Responses?.GetValueOrDefault("200") is OpenApiResponse ok)
        {
            ok.Description = "Every row is written, each record with its own change-feed row and version: how many were created and replaced, " +
                             "and each row's index, id, op and new version.";
        }
    }
}
