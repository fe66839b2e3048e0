namespace HubApi.Data;

/// <summary>The stored time stamp format: ISO 8601 UTC with milliseconds, sortable as text.</summary>
public static class Timestamps
{
    public static string Now() => Of(DateTime.UtcNow);

    public static string Of(DateTime utc) => utc.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'");
}
