using System.Text.Json.Nodes;
using HubApi.Http;
using HubApi.Resources;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>What the write handlers' signatures cannot tell the document: the body, the headers and the key each write needs.</summary>
public sealed class WriteOperationFilter : IOperationFilter
{
    /// <summary>The `Idempotency-Key` header of a create and of a batch.</summary>
    public static IOpenApiParameter IdempotencyKey(OpenApiDocument document) => Schemas.Shared(document, "IdempotencyKey", () => new OpenApiParameter
    {
        Name = Idempotency.Header,
        In = ParameterLocation.Header,
        Description = $"A unique string per request (a UUID is best). A retry with the same key and body within {Idempotency.Lifetime.TotalHours:0} " +
                      "hours gets the first response again, marked `Idempotent-Replayed: true`; the same key with another body is refused with 422. " +
                      "Keys are scoped to the API key.",
        Schema = new OpenApiSchema { Type = JsonSchemaType.String, MinLength = 1, MaxLength = Idempotency.MaxKeyLength, Pattern = "^[\\x21-\\x7E]+$" },
        // No example: Swagger UI would pre-fill it, and every "Try it out" would then share one key.
    });

    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        if (context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<WriteEndpoint>().FirstOrDefault() is not var (resource, kind)) return;
        operation.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(ApiKeyAuthentication.Scheme, context.Document)] = [] }];
        operation.Parameters ??= [];
        if (kind == WriteKind.Create)
        {
            operation.Parameters.Add(IdempotencyKey(context.Document));
        }
        else
        {
            operation.Parameters.Add(Schemas.Shared(context.Document, "IfMatch", () => new OpenApiParameter
            {
                Name = "If-Match",
                In = ParameterLocation.Header,
                Required = true,
                Description = "The `ETag` of the record as last read or written; `*` matches any version. " +
                              "Without it the answer is 428; when the record has changed since, 412.",
                Schema = new OpenApiSchema { Type = JsonSchemaType.String, MaxLength = 1024, Pattern = Schemas.EntityTagsPattern },
                Example = JsonValue.Create("\"0123456789abcdef0123456789abcdef\""),
            }));
        }

        if (kind is WriteKind.Create or WriteKind.Replace)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"The {resource.Singular}'s writable properties, at most {WriteBodies.MaxBodyBytes / 1024} KiB.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [WriteBodies.JsonMediaType] = new() { Schema = ResourceSchemas.For(context).Input(resource) },
                },
            };
        }
        else if (kind == WriteKind.Patch)
        {
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = true,
                Description = $"A JSON merge patch of the {resource.Singular}, at most {WriteBodies.MaxBodyBytes / 1024} KiB.",
                Content = new Dictionary<string, OpenApiMediaType>
                {
                    [WriteBodies.MergePatchMediaType] = new() { Schema = ResourceSchemas.For(context).Patch(resource) },
                },
            };
        }

        var success = kind switch { WriteKind.Create => "201", WriteKind.Delete => null, _ => "200" };
        if (success is not null && operation.Responses?.GetValueOrDefault(success) is OpenApiResponse response)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers[StandardResponsesFilter.ETagHeader] = new OpenApiHeaderReference(StandardResponsesFilter.ETagHeader, context.Document);
            if (kind == WriteKind.Create)
                response.Headers[StandardResponsesFilter.LocationHeader] = new OpenApiHeaderReference(StandardResponsesFilter.LocationHeader, context.Document);
        }
    }
}
