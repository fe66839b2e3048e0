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
}
