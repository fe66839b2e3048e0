using System.Text.Json;
using HubApi.Data;
using HubApi.Query;
using HubApi.Resources;
using Microsoft.AspNetCore.Http.HttpResults;
using static HubApi.Http.Problems;

namespace HubApi.Http;

/// <summary>The endpoints every resource shares: list, facets, get and nested lists, and the writes (see <see cref="WriteEndpoints"/>).</summary>
public static class ResourceEndpoints
{
    public static RouteGroupBuilder MapResource(this IEndpointRouteBuilder app, Resource resource)
    {
        var catalog = app.ServiceProvider.GetRequiredService<ResourceCatalog>();
        var group = app.MapGroup("/v1/" + resource.Name).WithTags(resource.Title);
        group.AddEndpointFilter<ResponseCacheFilter>();

        group.MapGet("", (HttpContext http, IStore store) => List(http, store, resource, null))
            .ValidateQuery(() => ListQueryValidator.For(resource))
            .WithName("List" + resource.Title)
            .WithSummary($"List {resource.Name}")
            .WithDescription($"A page of {resource.Name}; follow `next` to the end.")
            .WithMetadata(new CollectionEndpoint(resource))
            .Produces(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified);

        group.MapGet("/facets", (HttpContext http, IStore store) => Facets(http, store, resource))
            .ValidateQuery(() => ListQueryValidator.For(resource, ListKind.Facets))
            .WithName($"Get{resource.SingularTitle}Facets")
            .WithSummary($"Count {resource.Name} per value")
            .WithDescription($"The number of {resource.Name} per value of each facet in `by`, under the list's filters and search.")
            .WithMetadata(new FacetEndpoint(resource))
            .Produces<Dictionary<string, List<FacetCount>>>()
            .Produces(StatusCodes.Status304NotModified);

        group.MapGet("/{id}", (string id, HttpContext http, IStore store) => Get(id, http, store, resource))
            .WithName("Get" + resource.SingularTitle)
            .WithSummary($"Get {resource.Indefinite}")
            .WithDescription($"One {resource.Singular} by its id, with its citations. With `version`, that version of it as it was written, " +
                             $"with its own `ETag`, even after the {resource.Singular} was deleted (`GET /v1/{resource.Name}/{{id}}/history` lists them).")
            .WithMetadata(new ItemEndpoint(resource), new VersionedEndpoint(resource))
            .Produces(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem() // a malformed If-None-Match
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapWrites(resource, catalog);
        app.MapExports(resource);
        return group;
    }

    /// <summary>Maps /v1/{parent}/{id}/{child}: the child list scoped to the parent through the child's relation to it.</summary>
    public static RouteHandlerBuilder MapNested(this RouteGroupBuilder group, Resource parent, Resource child)
    {
        var relation = child.Relations.Single(r => r.Target == parent.Name);
        return group.MapGet("/{id}/" + child.Name, (string id, HttpContext http, IStore store) =>
                List(http, store, child, new Scope(relation, id), parent))
            .ValidateQuery(() => ListQueryValidator.For(child))
            .WithName($"List{parent.SingularTitle}{child.Title}")
            .WithSummary($"List the {child.Name} of {parent.Indefinite}")
            .WithDescription($"The {child.Name} whose `{relation.Name}` includes the {parent.Singular}, queried as `GET /v1/{child.Name}`.")
            .WithTags(parent.Title)
            .WithMetadata(new CollectionEndpoint(child, parent))
            .Produces(StatusCodes.Status200OK)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    /// <summary>
    /// Maps a resource's exports beside its list, Datasette-style: <c>/v1/firms.csv</c> and <c>/v1/firms.ndjson</c> take the
    /// list's sort, fields, search and filters and stream every matching record. Each is an operation of its own with one
    /// media type, so that the JSON list declares JSON alone and generated clients type it as such. A nested list's
    /// export is its resource's, filtered by the parent (<c>/v1/firms.csv?zone=lingang</c>). `Accept: text/csv` on a list's
    /// own URL still streams the export, for clients written before these URLs existed.
    /// </summary>
    private static void MapExports(this IEndpointRouteBuilder routes, Resource resource)
    {
        foreach (var (extension, mediaType, format) in new[] { ("csv", Export.Csv, "CSV"), ("ndjson", Export.Ndjson, "NDJSON") })
        {
            routes.MapGet($"/v1/{resource.Name}.{extension}", (HttpContext http, IStore store) =>
                    new Export(ListQuery.From(resource, QueryValidation.Validated(http)), store, mediaType))
                .ValidateQuery(() => ListQueryValidator.For(resource, ListKind.Export))
                .WithName($"Export{resource.Title}{format[0]}{format[1..].ToLowerInvariant()}")
                .WithSummary($"Export {resource.Name} as {format}")
                .WithDescription($"Every matching {resource.Singular}, in `sort` order, without paging.")
                .WithTags(resource.Title)
                .WithMetadata(new ExportEndpoint(resource, mediaType))
                .Produces(StatusCodes.Status200OK, contentType: mediaType);
        }
    }

    private static Results<JsonBody, Export, ValidationProblem, ProblemHttpResult> List(HttpContext http, IStore store, Resource resource, Scope? scope, Resource? parent = null)
    {
        var query = ListQuery.From(resource, QueryValidation.Validated(http), scope);
        using var read = store.BeginRead();
        if (scope is not null && !read.Exists(parent!, scope.Id)) return NotFound(parent!, scope.Id);
        // An export is the whole result, every page: limit and cursor do not apply.
        if (Export.Negotiate(http.Request) is { } mediaType) return new Export(query, store, mediaType);

        var page = read.List(query);
        if (page is null)
        {
            return Invalid("cursor", "This cursor was not issued for this query: use the 'next' value of a page with the same sort, filters and search.");
        }
        return JsonBody.Render(w => RecordJson.WritePage(w, resource, page, query.Fields), Links.NextHeader(http.Request, "cursor", page.Next));
    }

    private static JsonBody Facets(HttpContext http, IStore store, Resource resource)
    {
        var raw = QueryValidation.Validated(http);
        var query = ListQuery.From(resource, raw);
        using var read = store.BeginRead();
        var facets = read.Facets(query, ListQuery.Split(raw["by"]).Distinct());
        return JsonBody.Render(w => JsonSerializer.Serialize(w, facets, FacetJson));
    }

    private static readonly JsonSerializerOptions FacetJson = new(JsonSerializerDefaults.Web);

    private static Results<JsonBody, ValidationProblem, ProblemHttpResult> Get(string id, HttpContext http, IStore store, Resource resource)
    {
        if (http.Request.Query.TryGetValue("version", out var asked))
        {
            if (asked.Count != 1 || !long.TryParse(asked.ToString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 1)
                return Invalid("version", "version must be a whole number, 1 or more: one of the versions the record's history lists.");
            if (store.Version(resource, id, number) is not { Record: { } snapshot })
                return Problem(StatusCodes.Status404NotFound, $"The {resource.Singular} '{(id.Length > 100 ? id[..100] + "…" : id)}' has no version {number}.");
            return JsonBody.Render(w => RecordJson.WriteRecord(w, resource, RecordSnapshot.Read(resource, snapshot)));
        }
        using var read = store.BeginRead();
        var row = read.Get(resource, id);
        return row is null ? NotFound(resource, id) : JsonBody.Render(w => RecordJson.WriteRecord(w, resource, row));
    }
}
