using HubApi.Http;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>
/// The records a resource's operations answer with. The endpoints declare only the status, since records are written
/// straight from rows with no type of their own; the schema is the one built from the resource's descriptor.
/// </summary>
public sealed class RecordResponsesFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        var metadata = context.ApiDescription.ActionDescriptor.EndpointMetadata;
        var schemas = ResourceSchemas.For(context);
        var write = metadata.OfType<WriteEndpoint>().FirstOrDefault();
        if (metadata.OfType<CollectionEndpoint>().FirstOrDefault() is { } collection) Answer(operation, "200", schemas.Page(collection.Resource));
        else if (write?.Kind == WriteKind.Create) Answer(operation, "201", schemas.Record(write.Resource));
        else if (write?.Kind != WriteKind.Delete && metadata.OfType<ItemEndpoint>().FirstOrDefault() is { } item)
            Answer(operation, "200", schemas.Record(item.Resource));
    }

    private static void Answer(OpenApiOperation operation, string status, IOpenApiSchema schema)
    {
        if (operation.Responses?.GetValueOrDefault(status) is not OpenApiResponse response) return;
        response.Content ??= new Dictionary<string, OpenApiMediaType>();
        response.Content[WriteBodies.JsonMediaType] = new OpenApiMediaType { Schema = schema };
    }
}
