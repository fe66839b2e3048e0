using FluentValidation;
using HubApi.Query;

namespace HubApi.Http;

/// <summary>
/// The one filter that validates query strings: the endpoint's validator runs before its handler, and a query that
/// fails is answered 400 with every error by parameter. The handler then reads the validated query.
/// </summary>
/// <param name="build">Makes the endpoint's validator, on its first request: compiling the validators of every endpoint at
/// start-up would delay readiness by a few hundred milliseconds.</param>
public sealed class QueryValidation(Func<IValidator<RawQuery>> build) : IEndpointFilter
{
    private readonly Lazy<IValidator<RawQuery>> validator = new(build);

    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var raw = new RawQuery(http.Request.Query);
        var result = await validator.Value.ValidateAsync(raw, http.RequestAborted);
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
    /// <summary>Validates the endpoint's query string with the validator <paramref name="build"/> makes (see <see cref="QueryValidation"/>).</summary>
    public static RouteHandlerBuilder ValidateQuery(this RouteHandlerBuilder builder, Func<IValidator<RawQuery>> build) =>
        builder.AddEndpointFilter(new QueryValidation(build)).ProducesValidationProblem();
}
