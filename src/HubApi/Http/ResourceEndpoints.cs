using System.Text;
using System.Text.Json;
using FluentValidation;
using HubApi.Data;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.WebUtilities;

namespace HubApi.Http;

/// <summary>Endpoint metadata that tells the OpenAPI filter which resource's query language an operation speaks.</summary>
public sealed record CollectionEndpoint(Resource Resource, Resource? Parent = null);

/// <summary>Endpoint metadata for a resource's facets operation: its filters are documented like the list's.</summary>
public sealed record FacetEndpoint(Resource Resource);

/// <summary>Endpoint metadata for operations addressed by a record id.</summary>
public sealed record ItemEndpoint(Resource Resource);

/// <summary>The endpoints every resource shares: list, get and nested lists, and the writes (see <see cref="WriteEndpoints"/>).</summary>
public static class ResourceEndpoints
{
    private static readonly Dictionary<Resource, ListQueryValidator> Validators = ResourceCatalog.All.ToDictionary(r => r, r => new ListQueryValidator(r));
    private static readonly Dictionary<Resource, ListQueryValidator> FacetValidators = ResourceCatalog.All.ToDictionary(r => r, r => new ListQueryValidator(r, facets: true));

    public static RouteGroupBuilder MapResource(this IEndpointRouteBuilder app, Resource resource)
    {
        var group = app.MapGroup("/v1/" + resource.Name).WithTags(resource.Title);
        group.AddEndpointFilter<ResponseCacheFilter>();

        group.MapGet("", (HttpContext http, Db db, ResourceReader reader) => List(http, db, reader, resource, null))
            .WithName("List" + resource.Title)
            .WithSummary($"List {resource.Name}")
            .WithDescription(resource.Description + " Keyset-paged: follow `next` (or the `Link: rel=\"next\"` header) to the end.")
            .WithMetadata(new CollectionEndpoint(resource))
            .Produces(StatusCodes.Status200OK, typeof(Page<>).MakeGenericType(resource.RecordType))
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem();

        group.MapGet("/facets", (HttpContext http, Db db, ResourceReader reader) => Facets(http, db, reader, resource))
            .WithName($"Get{resource.SingularTitle}Facets")
            .WithSummary($"Count {resource.Name} per value")
            .WithDescription($"For each facet named in `by`, the number of {resource.Name} per value, under the same filters and search as the list.")
            .WithMetadata(new FacetEndpoint(resource))
            .Produces<Dictionary<string, List<FacetCount>>>()
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem();

        group.MapGet("/{id}", (string id, Db db, ResourceReader reader) => Get(id, db, reader, resource))
            .WithName("Get" + resource.SingularTitle)
            .WithSummary($"Get a {resource.Singular}")
            .WithDescription($"One {resource.Singular} by its id, with its citations.")
            .WithMetadata(new ItemEndpoint(resource))
            .Produces(StatusCodes.Status200OK, resource.RecordType)
            .Produces(StatusCodes.Status304NotModified)
            .ProducesProblem(StatusCodes.Status404NotFound);

        group.MapWrites(resource);
        return group;
    }

    /// <summary>Maps /v1/{parent}/{id}/{child}: the child list scoped to the parent through the child's relation to it.</summary>
    public static RouteHandlerBuilder MapNested(this RouteGroupBuilder group, Resource parent, Resource child)
    {
        var relation = child.Relations.Single(r => r.Target == parent.Name);
        return group.MapGet("/{id}/" + child.Name, (string id, HttpContext http, Db db, ResourceReader reader) =>
                List(http, db, reader, child, new Scope(relation, id), parent))
            .WithName($"List{parent.SingularTitle}{child.Title}")
            .WithSummary($"List the {child.Name} of a {parent.Singular}")
            .WithDescription($"The {child.Name} whose `{relation.Name}` includes the {parent.Singular}; the same query language as `GET /v1/{child.Name}`.")
            .WithTags(parent.Title)
            .WithMetadata(new CollectionEndpoint(child, parent))
            .Produces(StatusCodes.Status200OK, typeof(Page<>).MakeGenericType(child.RecordType))
            .Produces(StatusCodes.Status304NotModified)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);
    }

    private static Results<JsonBody, Export, ValidationProblem, ProblemHttpResult> List(HttpContext http, Db db, ResourceReader reader, Resource resource, Scope? scope, Resource? parent = null)
    {
        var raw = RawQuery.From(http.Request);
        var validation = Validators[resource].Validate(raw);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        var query = ListQuery.From(resource, raw, scope);
        using var connection = db.Open();
        using var snapshot = Db.BeginRead(connection);
        if (scope is not null && !ResourceReader.Exists(connection, parent!, scope.Id)) return NotFound(parent!, scope.Id);
        // An export is the whole result, every page: limit and cursor do not apply.
        if (Export.Negotiate(http.Request) is { } mediaType) return new Export(query, reader, db, mediaType);

        var page = reader.List(connection, query);
        if (page is null)
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["cursor"] = ["This cursor was not issued for this query: use the 'next' value of a page with the same sort, filters and search."],
            });
        }
        var link = page.Next is null ? null : $"<{NextUrl(http.Request, page.Next)}>; rel=\"next\"";
        return JsonBody.Render(w => RecordJson.WritePage(w, resource, page, query.Fields), link);
    }

    private static Results<JsonBody, ValidationProblem> Facets(HttpContext http, Db db, ResourceReader reader, Resource resource)
    {
        var raw = RawQuery.From(http.Request);
        var validation = FacetValidators[resource].Validate(raw);
        if (!validation.IsValid) return TypedResults.ValidationProblem(validation.ToDictionary());

        var query = ListQuery.From(resource, raw);
        using var connection = db.Open();
        using var snapshot = Db.BeginRead(connection);
        var facets = reader.Facets(connection, query, ListQuery.Split(raw["by"]).Distinct());
        return JsonBody.Render(w => JsonSerializer.Serialize(w, facets, FacetJson));
    }

    private static readonly JsonSerializerOptions FacetJson = new(JsonSerializerDefaults.Web);

    private static Results<JsonBody, ProblemHttpResult> Get(string id, Db db, ResourceReader reader, Resource resource)
    {
        using var connection = db.Open();
        using var snapshot = Db.BeginRead(connection);
        var row = reader.Get(connection, resource, id);
        return row is null ? NotFound(resource, id) : JsonBody.Render(w => RecordJson.WriteRecord(w, resource, row));
    }

    public static ProblemHttpResult NotFound(Resource resource, string id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound,
            detail: $"There is no {resource.Singular} with id '{(id.Length > 100 ? id[..100] + "…" : id)}'.");

    private static string NextUrl(HttpRequest request, string cursor)
    {
        var query = request.Query.Where(p => p.Key != "cursor")
            .Select(p => new KeyValuePair<string, string?>(p.Key, p.Value.ToString()))
            .Append(new("cursor", cursor));
        return QueryHelpers.AddQueryString(
            new StringBuilder().Append(request.Scheme).Append("://").Append(request.Host).Append(request.PathBase).Append(request.Path).ToString(),
            query);
    }
}
