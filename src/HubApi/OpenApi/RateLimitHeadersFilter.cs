using System.Text.Json.Nodes;
using HubApi.Http;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace HubApi.OpenApi;

/// <summary>
/// The rate-limit fields (<see cref="RateLimits"/>) as shared headers, declared on every response, shared or an
/// operation's own: every request is counted, whatever its answer. Registered after <see cref="ComponentsFilter"/>,
/// whose shared responses it completes.
/// </summary>
public sealed class RateLimitHeadersFilter : IDocumentFilter
{
    private const string Draft = "[draft-ietf-httpapi-ratelimit-headers-11](https://datatracker.ietf.org/doc/draft-ietf-httpapi-ratelimit-headers/11/)";

    public void Apply(OpenApiDocument document, DocumentFilterContext context)
    {
        document.Components ??= new OpenApiComponents();
        document.Components.Headers ??= new Dictionary<string, IOpenApiHeader>();
        document.Components.Headers[RateLimits.PolicyHeader] = new OpenApiHeader
        {
            Description = $"The budget the request was counted against ({Draft}): `\"keyed\"`, per API key, or `\"anonymous\"`, per " +
                          "client address (IPv6: per /64 network) for requests without a valid key; `q` requests per window of `w` " +
                          "seconds. Absent when that budget is switched off.",
            Schema = Field("^\"(keyed|anonymous)\";q=[0-9]{1,10};w=[0-9]{1,5}$"),
            Example = JsonValue.Create("\"keyed\";q=3000;w=60"),
        };
        document.Components.Headers[RateLimits.StateHeader] = new OpenApiHeader
        {
            Description = $"What is left of that budget ({Draft}): `r` more requests in this window, which ends in `t` seconds, " +
                          "when the budget is renewed. On a `429`, `r` is 0 and `t` equals `Retry-After`. Absent when the budget is " +
                          "switched off.",
            Schema = Field("^\"(keyed|anonymous)\";r=[0-9]{1,10};t=[0-9]{1,5}$"),
            Example = JsonValue.Create("\"keyed\";r=2999;t=42"),
        };

        var operations = document.Paths.Values.SelectMany(path => path.Operations?.Values.AsEnumerable() ?? []);
        var responses = operations.SelectMany(operation => operation.Responses?.Values.AsEnumerable() ?? [])
            .Concat(document.Components.Responses?.Values.AsEnumerable() ?? [])
            .OfType<OpenApiResponse>(); // references are completed where they point
        foreach (var response in responses)
        {
            response.Headers ??= new Dictionary<string, IOpenApiHeader>();
            response.Headers[RateLimits.PolicyHeader] = new OpenApiHeaderReference(RateLimits.PolicyHeader, document);
            response.Headers[RateLimits.StateHeader] = new OpenApiHeaderReference(RateLimits.StateHeader, document);
        }
    }

    private static OpenApiSchema Field(string pattern) => new() { Type = JsonSchemaType.String, MaxLength = 64, Pattern = pattern };
}
