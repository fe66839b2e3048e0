using System.Globalization;
using System.Text.RegularExpressions;
using FluentValidation;
using Microsoft.Extensions.Primitives;

namespace HubApi.Http;

/// <summary>The query string of a collection request, as sent.</summary>
public sealed class RawQuery(IEnumerable<KeyValuePair<string, StringValues>> query)
{
    public Dictionary<string, StringValues> Values { get; } = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    public string? this[string name] => Values.TryGetValue(name, out var v) ? v.ToString() : null;

    public static RawQuery From(HttpRequest request) => new(request.Query);
}

public sealed record SortKey(string Name, bool Descending);

public sealed record Scope(Relation Relation, string Id);

/// <summary>A validated collection query: what to filter, sort, select and embed, and where to resume.</summary>
public sealed partial class ListQuery
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxListValues = 50;
    public const int MaxSearchLength = 200;

    /// <summary>Parameters every collection understands; each resource adds its filters.</summary>
    public static readonly string[] Common = ["limit", "cursor", "sort", "fields", "include", "q", "count"];

    public required Resource Resource { get; init; }
    public int Limit { get; init; } = DefaultLimit;
    public string? Cursor { get; init; }
    public IReadOnlyList<SortKey> Sort { get; init; } = [];
    public IReadOnlySet<string>? Fields { get; init; }
    public IReadOnlyList<Relation> Include { get; init; } = [];
    public string? Search { get; init; }
    public bool Count { get; init; }
    /// <summary>For nested lists such as /v1/zones/{id}/firms: the relation that must point at the parent.</summary>
    public Scope? Scope { get; init; }
    /// <summary>Filter parameter name to its raw value, in a stable order (part of the cursor's fingerprint).</summary>
    public SortedDictionary<string, string> Filters { get; init; } = new(StringComparer.Ordinal);

    public static ListQuery From(Resource resource, RawQuery raw, Scope? scope = null) => new()
    {
        Resource = resource,
        Scope = scope,
        Limit = raw["limit"] is { } limit ? int.Parse(limit, CultureInfo.InvariantCulture) : DefaultLimit,
        Cursor = raw["cursor"],
        Sort = [.. Split(raw["sort"]).Select(s => s.StartsWith('-') ? new SortKey(s[1..], true) : new SortKey(s, false))],
        Fields = raw["fields"] is { } f ? Split(f).ToHashSet(StringComparer.Ordinal) : null,
        Include = [.. Split(raw["include"]).Distinct().Select(n => resource.Relation(n)!)],
        Search = string.IsNullOrWhiteSpace(raw["q"]) ? null : raw["q"]!.Trim(),
        Count = raw["count"] == "true",
        Filters = new(FilterNames(resource).Where(n => raw[n] is not null).ToDictionary(n => n, n => raw[n]!), StringComparer.Ordinal),
    };

    /// <summary>Every filter parameter a resource accepts.</summary>
    public static IEnumerable<string> FilterNames(Resource resource)
    {
        foreach (var f in resource.Filters)
        {
            if (f.Type is FieldType.Integer or FieldType.Number)
            {
                yield return f.Range.Low;
                yield return f.Range.High;
            }
            else yield return f.Name;
        }
        foreach (var r in resource.Relations) yield return r.FilterName;
    }

    public static IEnumerable<string> Split(string? value) =>
        string.IsNullOrEmpty(value) ? [] : value.Split(',', StringSplitOptions.TrimEntries);

    [GeneratedRegex("^[a-z0-9]+(-[a-z0-9]+)*$")]
    public static partial Regex Slug();
}

/// <summary>
/// Validates a collection query against what its resource allows; every error names the parameter
/// and says what is allowed.
/// </summary>
public sealed class ListQueryValidator : AbstractValidator<RawQuery>
{
    /// <param name="resource">Whose parameters to accept.</param>
    /// <param name="facets">Validate a facets request: `by`, `q` and the filters, no paging.</param>
    public ListQueryValidator(Resource resource, bool facets = false)
    {
        var common = facets ? ["by", "q"] : ListQuery.Common;
        var allowed = common.Concat(ListQuery.FilterNames(resource)).ToHashSet(StringComparer.Ordinal);
        if (facets)
        {
            RuleFor(q => q["by"]).NotEmpty().OverridePropertyName("by")
                .WithMessage($"by names the facets to count. Allowed: {string.Join(", ", ResourceReader.FacetNames(resource))}.");
            Names("by", [.. ResourceReader.FacetNames(resource)]);
        }

        RuleFor(q => q).Custom((q, context) =>
        {
            foreach (var (name, values) in q.Values)
            {
                if (!allowed.Contains(name))
                    context.AddFailure(name, $"Unknown parameter '{Trim(name)}'. Allowed: {string.Join(", ", allowed.Order())}.");
                else if (values.Count > 1)
                    context.AddFailure(name, $"'{name}' is given {values.Count} times; give it once (lists are comma-separated).");
            }
        });

        Param("limit", v => int.TryParse(v, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n is >= 1 and <= ListQuery.MaxLimit,
            $"limit must be a whole number from 1 to {ListQuery.MaxLimit}.");
        Param("count", v => v is "true" or "false", "count must be true or false.");
        RuleFor(q => q["q"]).MaximumLength(ListQuery.MaxSearchLength).OverridePropertyName("q")
            .WithMessage($"q must be at most {ListQuery.MaxSearchLength} characters.");
        Param("cursor", v => v.Length <= 4096, "cursor must be a value taken from a previous page's 'next'.");

        Names("sort", resource.SortNames, allowDescending: true);
        Names("fields", resource.FieldNames);
        Names("include", resource.IncludeNames);

        foreach (var field in resource.Filters)
        {
            switch (field.Type)
            {
                case FieldType.Boolean:
                    Param(field.Name, v => v is "true" or "false", $"{field.Name} must be true or false.");
                    break;
                case FieldType.Integer or FieldType.Number:
                    var (low, high) = field.Range;
                    var kind = field.Type == FieldType.Integer ? "a whole number" : "a number";
                    Param(low, v => ParseNumber(field, v) is not null, $"{low} must be {kind}.");
                    Param(high, v => ParseNumber(field, v) is not null, $"{high} must be {kind}.");
                    RuleFor(q => q).Must(q => !(ParseNumber(field, q[low]) is { } a && ParseNumber(field, q[high]) is { } b && a > b))
                        .OverridePropertyName(low).WithMessage($"{low} must not be greater than {high}.");
                    break;
                default:
                    Values(field.Name, field.Values, field.MaxLength);
                    break;
            }
        }
        foreach (var relation in resource.Relations) Values(relation.FilterName, null, null);
    }

    public static double? ParseNumber(Field field, string? value)
    {
        if (value is null) return null;
        if (field.Type == FieldType.Integer)
            return long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var l) ? l : null;
        return double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d) ? d : null;
    }

    private void Param(string name, Func<string, bool> valid, string message) =>
        RuleFor(q => q[name]).Must(v => v!.Length > 0 && valid(v)).OverridePropertyName(name).WithMessage(message)
            .When(q => q[name] is not null);

    private void Names(string parameter, IReadOnlyList<string> allowed, bool allowDescending = false)
    {
        var list = string.Join(", ", allowed);
        RuleFor(q => q[parameter]).Custom((value, context) =>
        {
            if (value is null) return;
            var names = value.Split(',', StringSplitOptions.TrimEntries);
            if (names.Length > allowed.Count * 2)
            {
                context.AddFailure(parameter, $"{parameter} names too many values. Allowed: {list}.");
                return;
            }
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var raw in names)
            {
                var name = allowDescending && raw.StartsWith('-') ? raw[1..] : raw;
                if (!allowed.Contains(name))
                    context.AddFailure(parameter, $"'{Trim(raw)}' is not a {parameter} value here. Allowed: {list}.");
                else if (!seen.Add(name))
                    context.AddFailure(parameter, $"'{name}' appears twice in {parameter}.");
            }
        });
    }

    /// <summary>A comma-separated list: of allowed values, of ids (no max length given), or of free text.</summary>
    private void Values(string parameter, string[]? allowed, int? maxLength) =>
        RuleFor(q => q[parameter]).Custom((value, context) =>
        {
            if (value is null) return;
            var values = value.Split(',', StringSplitOptions.TrimEntries);
            if (values.Length > ListQuery.MaxListValues)
            {
                context.AddFailure(parameter, $"{parameter} takes at most {ListQuery.MaxListValues} comma-separated values.");
                return;
            }
            foreach (var v in values)
            {
                if (allowed is not null && !allowed.Contains(v))
                    context.AddFailure(parameter, $"'{Trim(v)}' is not a {parameter} value. Allowed: {string.Join(", ", allowed)}.");
                else if (allowed is null && maxLength is null && !ListQuery.Slug().IsMatch(v))
                    context.AddFailure(parameter, $"'{Trim(v)}' is not an id: ids are lowercase letters, digits and single hyphens.");
                else if (v.Length == 0 || v.Length > (maxLength ?? 100))
                    context.AddFailure(parameter, $"{parameter} values must be 1 to {maxLength ?? 100} characters long.");
            }
        });

    /// <summary>Echo at most a short prefix of user input in error messages.</summary>
    private static string Trim(string value) => value.Length <= 40 ? value : value[..40] + "…";
}
