using FluentValidation;
using HubApi.Query;

namespace HubApi.Http;

/// <summary>
/// The one filter that validates query strings: the endpoint's validator runs before its handler, and a query that
/// fails is answered 400 with every error by parameter. The handler then reads the validated query.
/// </summary>
public sealed class QueryValidation(IValidator<RawQuery> validator) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var raw = new RawQuery(http.Request.Query);
        var result = await validator.ValidateAsync(raw, http.RequestAborted);
        if (!result.IsValid) return TypedResults.ValidationProblem(result.ToDictionary());
        http.Items[typeof(RawQuery)] = raw;
        return await next(context);
    }

    /// <summary>The query string as this filter validated it.</summary>
    public static RawQuery Validated(HttpContext http) =>
        http.Items[typeof(RawQuery)] as RawQuery ?? throw new InvalidOperationException("The endpoint has no query validation filter.");
}

public static class QueryValidationExtensions
{
    /// <summary>Validates the endpoint's query string with <paramref name="validator"/> (see <see cref="QueryValidation"/>).</summary>
    public static RouteHandlerBuilder ValidateQuery(this RouteHandlerBuilder builder, IValidator<RawQuery> validator) =>
        builder.AddEndpointFilter(new QueryValidation(validator)).ProducesValidationProblem();
}
