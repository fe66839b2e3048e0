using System.Text.Json.Serialization;

namespace HubApi.Resources;

/// <summary>One write to one record, in commit order.</summary>
/// <param name="Seq">The change's position in the feed: pass the last one applied as `after` to resume.</param>
/// <param name="Resource">The resource written, such as firms.</param>
/// <param name="Id">The record's id.</param>
/// <param name="Op">What happened to the record.</param>
/// <param name="Version">The record's version after the change; for a deletion, one past its last version.</param>
/// <param name="At">When the change was committed (UTC).</param>
/// <param name="By">The name of the API key that wrote it (never the key itself); `seed` for the seed dataset, `cli` for `HubApi import`; null for changes written before writers were recorded.</param>
public sealed record Change(long Seq, string Resource, string Id, ChangeOp Op, long Version, DateTime At, string? By);

/// <summary>What a change did: created and updated records can be fetched at their version; deleted ones are gone.</summary>
[JsonConverter(typeof(JsonStringEnumConverter<ChangeOp>))]
public enum ChangeOp
{
    [JsonStringEnumMemberName("created")] Created,
    [JsonStringEnumMemberName("updated")] Updated,
    [JsonStringEnumMemberName("deleted")] Deleted,
}

/// <summary>A page of the change feed.</summary>
/// <param name="Items">Changes in commit order.</param>
/// <param name="Next">The `after` of the following page, or null when this page reaches the end of the feed (poll again later with the last `seq`).</param>
public sealed record ChangePage(IReadOnlyList<Change> Items, long? Next);

/// <summary>A change-feed row as stored: the op and time as the feed writes them, and the name of the key that wrote it.</summary>
public sealed record ChangeRow(long Seq, string Resource, string RecordId, string Op, long Version, string At, string? By);

/// <summary>One version of one record as stored: its change-feed row and, unless it is a deletion, its snapshot.</summary>
public sealed record VersionRow(long Seq, string Op, long Version, string At, string? By, string? Record);

/// <summary>Who writes when no API key does: the seed dataset and the command line.</summary>
public static class Writers
{
    public const string Seed = "seed";
    public const string Cli = "cli";
}
