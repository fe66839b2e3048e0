using HubApi.Resources;
using Microsoft.AspNetCore.Http.HttpResults;

namespace HubApi.Http;

/// <summary>The problem answers the endpoints share: one wording for each status decision.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(Resource resource, string id) =>
        Problem(StatusCodes.Status404NotFound, $"There is no {resource.Singular} with id '{(id.Length > 100 ? id[..100] + "…" : id)}'.");

    public static ProblemHttpResult PreconditionRequired(Resource resource) =>
        Problem(StatusCodes.Status428PreconditionRequired,
            $"Send If-Match with the {resource.Singular}'s current ETag (from GET or the last write), or * for any version.",
            title: "Precondition Required");

    public static ProblemHttpResult Stale(Resource resource, string id) =>
        Problem(StatusCodes.Status412PreconditionFailed,
            $"The {resource.Singular} '{id}' has changed since that ETag was issued: GET it again and reapply the change.");

    /// <summary>A precondition header that is not * or a list of quoted ETags (see <see cref="JsonBody.IsEntityTagList"/>).</summary>
    public static ValidationProblem MalformedPrecondition(string header) => Invalid(header, MalformedPreconditionError(header));

    public static string MalformedPreconditionError(string header) =>
        $"{header} must be * or one or more ETags as this service sends them, each in double quotes (\"…\"), in ASCII.";

    public static ValidationProblem Invalid(string name, string error) =>
        TypedResults.ValidationProblem(new Dictionary<string, string[]> { [name] = [error] });

    public static ProblemHttpResult Problem(int status, string detail, IDictionary<string, object?>? extensions = null, string? title = null) =>
        TypedResults.Problem(statusCode: status, detail: detail, title: title, extensions: extensions);
}
