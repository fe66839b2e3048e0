using System.Globalization;
using FluentValidation;

namespace HubApi.Query;

/// <summary>
/// The rules every query string shares: only known parameters, each well-formed; every error names the parameter and
/// says what is allowed.
/// <para>
/// A list parameter may be repeated (<c>zone=a&amp;zone=b</c>, OpenAPI's default form style, which generated clients
/// send) or comma-separated (<c>zone=a,b</c>), or both: <see cref="RawQuery"/> reads every spelling as one list. A
/// single value (<c>limit</c>, <c>cursor</c>, <c>q</c>, a boolean or a range bound) given twice is a 400: which one was
/// meant cannot be known, and taking the first or the last silently would answer a question nobody asked.
/// </para>
/// </summary>
public abstract class QueryValidator : AbstractValidator<RawQuery>
{
    /// <param name="allowed">Every parameter the query may name.</param>
    /// <param name="lists">Those of them that take a list of values.</param>
    protected QueryValidator(IEnumerable<string> allowed, IEnumerable<string> lists)
    {
        var known = allowed.ToHashSet(StringComparer.Ordinal);
        var repeatable = lists.ToHashSet(StringComparer.Ordinal);
        var list = string.Join(", ", known.Order(StringComparer.Ordinal));
        RuleFor(q => q).Custom((q, context) =>
        {
            foreach (var (name, values) in q.Values)
            {
                if (!known.Contains(name)) context.AddFailure(Trim(name), $"Unknown parameter '{Trim(name)}'. Allowed: {list}.");
                else if (values.Count > 1 && !repeatable.Contains(name)) context.AddFailure(name, $"'{name}' is given {values.Count} times; it takes one value.");
            }
        });
    }

    /// <summary>When the parameter is given, it must be non-empty and pass <paramref name="valid"/>.</summary>
    protected void Param(string name, Func<string, bool> valid, string message) =>
        RuleFor(q => q[name]).Must(v => v!.Length > 0 && valid(v)).OverridePropertyName(name).WithMessage(message)
            .When(q => q[name] is not null);

    /// <summary>A whole number from 1 to <paramref name="max"/>, such as a page size.</summary>
    protected void Limit(int max) =>
        Param("limit", v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1 && n <= max,
            $"limit must be a whole number from 1 to {max}.");

    /// <summary>Echo at most a short prefix of user input in error messages.</summary>
    protected static string Trim(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
