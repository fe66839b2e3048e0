using System.Globalization;

namespace HubApi.Query;

/// <summary>Validates a record history's query (`limit`, `cursor`, `order`) and the audit log's (`limit`, `cursor`, `key`, `resource`).</summary>
public sealed class HistoryQueryValidator : QueryValidator
{
    // Paged as the lists are, so one `limit` parameter documents both.
    public const int DefaultLimit = ListQuery.DefaultLimit;
    public const int MaxLimit = ListQuery.MaxLimit;
    public const string NewestFirst = "newest";
    public const string OldestFirst = "oldest";

    /// <param name="resources">For the audit log, the names `resource` may list; null for a record's history.</param>
    public HistoryQueryValidator(IReadOnlyList<string>? resources = null)
        : base(resources is null ? ["limit", "cursor", "order"] : ["limit", "cursor", "key", "resource"], lists: ["key", "resource"])
    {
        Limit(MaxLimit);
        Param("cursor", v => Cursor(v) is not null, "cursor must be the `next` value of the previous page.");
        if (resources is null)
        {
            Param("order", v => v is NewestFirst or OldestFirst, $"order must be {NewestFirst} (the default) or {OldestFirst}.");
        }
        else
        {
            Param("key", v => ListQuery.Split(v).All(k => k.Length is > 0 and <= 100), "key takes key names, comma-separated.");
            Param("resource", v => ListQuery.Split(v).All(resources.Contains),
                $"resource takes resource names, comma-separated: {string.Join(", ", resources)}.");
        }
    }

    /// <summary>A page's cursor: the seq of the last change it listed.</summary>
    public static long? Cursor(string? value) =>
        long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : null;

    public static int LimitOf(string? value) => value is null ? DefaultLimit : int.Parse(value, CultureInfo.InvariantCulture);
}
