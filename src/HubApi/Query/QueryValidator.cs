using System.Globalization;
using FluentValidation;

namespace HubApi.Query;

/// <summary>
/// The rules every query string shares: only known parameters, each given once, and each well-formed; every error
/// names the parameter and says what is allowed.
/// </summary>
public abstract class QueryValidator : AbstractValidator<RawQuery>
{
    protected QueryValidator(IEnumerable<string> allowed)
    {
        var known = allowed.ToHashSet(StringComparer.Ordinal);
        var list = string.Join(", ", known.Order(StringComparer.Ordinal));
        RuleFor(q => q).Custom((q, context) =>
        {
            foreach (var (name, values) in q.Values)
            {
                if (!known.Contains(name)) context.AddFailure(Trim(name), $"Unknown parameter '{Trim(name)}'. Allowed: {list}.");
                else if (values.Count > 1) context.AddFailure(name, $"'{name}' is given {values.Count} times; give it once (lists are comma-separated).");
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
