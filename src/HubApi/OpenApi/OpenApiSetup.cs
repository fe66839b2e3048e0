using System.Text.Json.Nodes;
using HubApi.Http;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

public static class OpenApiSetup
{
    public static IServiceCollection AddHubOpenApi(this IServiceCollection services)
    {
        services.AddEndpointsApiExplorer();
        services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "HubApi",
                Version = "v1",
                Description = "The Shanghai digital-city dataset: zones, industries, firms, targets, projects, facilities, " +
                              "digital services and city figures, each record citing the sentence of the source it comes from.\n\n" +
                              // Said once here rather than in every operation.
                              "Lists are keyset-paged: follow `next` (or the `Link: rel=\"next\"` header) to the end. A list parameter " +
                              "takes its values repeated (`zone=a&zone=b`) or comma-separated (`zone=a,b`).\n\n" +
                              "Writes need an API key. Ids are slugs, derived from `name` when omitted and never reused; relations are " +
                              "written as ids, citations as `{\"source\", \"quote\"}` objects. PUT, PATCH and DELETE need `If-Match` with " +
                              "the record's current `ETag` (or `*`); PATCH takes a JSON merge patch (RFC 7396, `application/merge-patch+json`): " +
                              "members given replace, `null` clears, the rest stay, lists are replaced whole.",
            });
            o.IncludeXmlComments(Path.Combine(AppContext.BaseDirectory, "HubApi.xml"));
            o.SupportNonNullableReferenceTypes();
            o.AddSecurityDefinition(ApiKeyAuthentication.Scheme, new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.ApiKey,
                In = ParameterLocation.Header,
                Name = ApiKeyAuthentication.Header,
                Description = "An API key with the `write` scope, needed by the write operations only; reads are anonymous. " +
                              "Operators issue keys with `HubApi keys create --name <partner> --scope write`.",
            });
            // The relative URL keeps Swagger UI's "Try it out" and generated clients on the host that serves the document.
            o.AddServer(new OpenApiServer
            {
                Url = "/",
                Description = "This deployment, whichever it is (local, staging or production): the host serving this document.",
                Extensions = new Dictionary<string, IOpenApiExtension> { ["x-internal"] = new JsonNodeExtension(JsonValue.Create(false)) },
            });
            o.OperationFilter<RecordResponsesFilter>(); // first: the others add to the responses it declares
            o.OperationFilter<QueryLanguageFilter>();
            o.OperationFilter<WriteOperationFilter>();
            o.OperationFilter<OperationDocsFilter>();
            o.OperationFilter<StandardResponsesFilter>(); // last: it completes what the others declared
            o.SchemaFilter<BoundsFilter>();
            o.SchemaFilter<SharedSchemaFilter>();
            o.SchemaFilter<ProblemSchemaFilter>();
            o.DocumentFilter<ComponentsFilter>();
            o.DocumentFilter<RateLimitHeadersFilter>(); // last: every response, shared ones included, exists by then
        });
        return services;
    }

    /// <summary>
    /// Writes the document exactly as /swagger/v1/swagger.yaml serves it (the committed openapi.yaml): the app is
    /// started on a loopback port without touching the database, and the served bytes are saved.
    /// </summary>
    public static async Task WriteOpenApiAsync(this WebApplication app, string path)
    {
        app.Urls.Clear();
        app.Urls.Add("http://127.0.0.1:0");
        await app.StartAsync();
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
            .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses.First();
        using var client = new HttpClient();
        await File.WriteAllBytesAsync(path, await client.GetByteArrayAsync(address + "/swagger/v1/swagger.yaml"));
        await app.StopAsync();
    }

    public static void MapHubOpenApi(this WebApplication app)
    {
        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "HubApi v1");
            o.DocumentTitle = "HubApi";
        });
    }
}

/// <summary>Endpoint metadata that completes an endpoint's OpenAPI operation with what its handler signature cannot express.</summary>
public sealed record OperationDocs(Action<OpenApiOperation, OperationFilterContext> Apply);

/// <summary>
/// Endpoint metadata: the operation's success answer is the same for every resource (a batch's summary, a record's
/// history), so <see cref="StandardResponsesFilter"/> keeps it once under components/responses as <paramref name="Name"/>.
/// </summary>
public sealed record SharedAnswer(string Name);

public sealed class OperationDocsFilter : IOperationFilter
{
    public void Apply(OpenApiOperation operation, OperationFilterContext context)
    {
        foreach (var docs in context.ApiDescription.ActionDescriptor.EndpointMetadata.OfType<OperationDocs>()) docs.Apply(operation, context);
    }
}
