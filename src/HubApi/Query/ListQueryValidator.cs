using System.Globalization;
using System.Runtime.CompilerServices;
using FluentValidation;
using HubApi.Resources;

namespace HubApi.Query;

/// <summary>What a collection request asks for: a page, the facets' counts, or every matching record at once.</summary>
public enum ListKind { Page, Facets, Export }

/// <summary>
/// Validates a collection query against what its resource allows; every error names the parameter
/// and says what is allowed.
/// </summary>
public sealed class ListQueryValidator : QueryValidator
{
    /// <summary>
    /// The validator of a resource's lists (or of its facets, or of its exports), built once per process like
    /// <see cref="RecordValidator.For"/>: its own list and every nested list of it (/v1/zones/{id}/firms) share one.
    /// </summary>
    public static ListQueryValidator For(Resource resource, ListKind kind = ListKind.Page) =>
        Built[(int)kind].GetValue(resource, r => new ListQueryValidator(r, kind));

    private static readonly ConditionalWeakTable<Resource, ListQueryValidator>[] Built = [new(), new(), new()];

    /// <summary>The parameters each kind of request takes besides the resource's filters.</summary>
    public static string[] Parameters(ListKind kind) => kind switch
    {
        ListKind.Facets => ["by", "q"],
        // An export is every matching record: no pages, no count, no embedding.
        ListKind.Export => ["sort", "fields", "q"],
        _ => ListQuery.Common,
    };

    /// <param name="resource">Whose parameters to accept.</param>
    /// <param name="kind">A page of a list, its facets (`by`, `q` and the filters), or an export.</param>
    private ListQueryValidator(Resource resource, ListKind kind)
        : base([.. Parameters(kind), .. ListQuery.FilterNames(resource)], ["by", .. ListQuery.ListNames(resource)])
    {
        if (kind == ListKind.Facets)
        {
            RuleFor(q => q["by"]).NotEmpty().OverridePropertyName("by")
                .WithMessage($"by names the facets to count. Allowed: {string.Join(", ", resource.FacetNames)}.");
            Names("by", [.. resource.FacetNames]);
        }

        Limit(ListQuery.MaxLimit);
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
                    var number = field.Type == FieldType.Integer ? "a whole number" : "a number";
                    Param(low, v => ParseNumber(field, v) is not null, $"{low} must be {number}.");
                    Param(high, v => ParseNumber(field, v) is not null, $"{high} must be {number}.");
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
                else if (allowed is null && maxLength is null && !Ids.Slug().IsMatch(v))
                    context.AddFailure(parameter, $"'{Trim(v)}' is not an id: ids are lowercase letters, digits and single hyphens.");
                else if (v.Length == 0 || v.Length > (maxLength ?? 100))
                    context.AddFailure(parameter, $"{parameter} values must be 1 to {maxLength ?? 100} characters long.");
                else if (v.Contains('\0'))
                    context.AddFailure(parameter, $"{parameter} values must not hold U+0000 (%00): PostgreSQL cannot compare text that does.");
            }
        });
}
