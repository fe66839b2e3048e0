using System.Globalization;
using FluentValidation;

namespace HubApi.Query;

/// <summary>Validates the change feed's query: `after`, `resource` and, for pages, `limit`.</summary>
public sealed class ChangesQueryValidator : QueryValidator
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 1000;

    /// <param name="resources">The names `resource` may list.</param>
    /// <param name="stream">Validate the event stream's query: no `limit`.</param>
    public ChangesQueryValidator(IReadOnlyList<string> resources, bool stream)
        : base(stream ? ["after", "resource"] : ["after", "limit", "resource"], lists: ["resource"])
    {
        Param("after", v => After(v) is not null, "after must be a whole number, 0 or more: the seq of the last change applied.");
        if (!stream) Limit(MaxLimit);
        Param("resource", v => ListQuery.Split(v).All(resources.Contains),
            $"resource takes resource names, comma-separated: {string.Join(", ", resources)}.");
    }

    /// <summary>A non-negative sequence number, or null.</summary>
    public static long? After(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : null;
}
