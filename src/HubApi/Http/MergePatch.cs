using System.Text.Json.Nodes;

namespace HubApi.Http;

/// <summary>JSON Merge Patch (RFC 7396): objects merge member by member, null removes a member, anything else replaces.</summary>
public static class MergePatch
{
    /// <summary>Applies <paramref name="patch"/> to <paramref name="target"/> in place and returns it.</summary>
    public static JsonObject Apply(JsonObject target, JsonObject patch)
    {
        foreach (var (name, value) in patch)
        {
            if (value is null) target.Remove(name);
            else if (value is JsonObject inner && target[name] is JsonObject existing) Apply(existing, inner);
            else target[name] = value is JsonObject fresh ? Apply([], fresh) : value.DeepClone();
        }
        return target;
    }

    /// <summary>
    /// The merge patch that turns <paramref name="from"/> into <paramref name="to"/>: the members that differ (objects
    /// member by member), null for those <paramref name="to"/> lacks or holds null. From nothing, it is <paramref name="to"/>
    /// without its nulls; to nothing (a deletion), it is null, the patch that removes the whole document.
    /// </summary>
    public static JsonNode? Diff(JsonObject? from, JsonObject? to)
    {
        if (to is null) return null;
        var patch = new JsonObject();
        foreach (var (name, value) in to)
        {
            var old = from?[name];
            if (value is null)
            {
                if (old is not null) patch[name] = null;
            }
            else if (value is JsonObject inner && old is JsonObject oldInner)
            {
                if (Diff(oldInner, inner) is JsonObject { Count: > 0 } nested) patch[name] = nested;
            }
            else if (!JsonNode.DeepEquals(old, value)) patch[name] = value is JsonObject fresh ? Diff(null, fresh) : value.DeepClone();
        }
        if (from is not null)
        {
            foreach (var (name, value) in from)
            {
                if (value is not null && !to.ContainsKey(name)) patch[name] = null;
            }
        }
        return patch;
    }
}
