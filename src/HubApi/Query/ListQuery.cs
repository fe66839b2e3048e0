using System.Globalization;
using HubApi.Resources;
using Microsoft.Extensions.Primitives;

namespace HubApi.Query;

/// <summary>The query string of a request, as sent.</summary>
public sealed class RawQuery(IEnumerable<KeyValuePair<string, StringValues>> query)
{
    public Dictionary<string, StringValues> Values { get; } = query.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);

    /// <summary>
    /// The parameter's value; a repeated parameter's values joined with commas, so that <c>zone=a&amp;zone=b</c> reads as
    /// <c>zone=a,b</c> (the validators refuse repeats of parameters that take one value).
    /// </summary>
    public string? this[string name] => Values.TryGetValue(name, out var v) ? v.ToString() : null;
}

public sealed record SortKey(string Name, bool Descending);

public sealed record Scope(Relation Relation, string Id);

/// <summary>A validated collection query: what to filter, sort, select and embed, and where to resume.</summary>
public sealed class ListQuery
{
    public const int DefaultLimit = 20;
    public const int MaxLimit = 100;
    public const int MaxListValues = 50;
    public const int MaxSearchLength = 200;
    /// <summary>A facet lists at most this many values, the most frequent first.</summary>
    public const int MaxFacetValues = 100;

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

    /// <summary>The parameters of a resource's lists that take a list of values, and so may be repeated.</summary>
    public static IEnumerable<string> ListNames(Resource resource) =>
        ["sort", "fields", "include", .. resource.Filters.Where(f => f.Type is not (FieldType.Boolean or FieldType.Integer or FieldType.Number)).Select(f => f.Name),
         .. resource.Relations.Select(r => r.FilterName)];

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
}

