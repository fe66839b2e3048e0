using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace HubApi.Query;

/// <summary>
/// An opaque keyset cursor: the sort-key values of the last row returned, bound to the query it was
/// issued for (its fingerprint) and signed, so a tampered or mismatched cursor is refused.
/// </summary>
public sealed class CursorCodec(byte[] key)
{
    public string Encode(string fingerprint, IReadOnlyList<object?> keys)
    {
        var payload = JsonSerializer.SerializeToUtf8Bytes(new object[] { Hash(fingerprint), keys });
        return Base64Url.EncodeToString(payload) + "." + Base64Url.EncodeToString(Sign(payload));
    }

    /// <summary>Returns the key values, or null when the cursor is malformed, tampered with or from another query.</summary>
    public object?[]? Decode(string cursor, string fingerprint, int expectedKeys)
    {
        var dot = cursor.IndexOf('.');
        if (dot <= 0 || cursor.Length > 4096) return null;
        try
        {
            var payload = Base64Url.DecodeFromChars(cursor.AsSpan(0, dot));
            var signature = Base64Url.DecodeFromChars(cursor.AsSpan(dot + 1));
            if (!CryptographicOperations.FixedTimeEquals(signature, Sign(payload))) return null;
            using var doc = JsonDocument.Parse(payload);
            var root = doc.RootElement;
            if (root.GetArrayLength() != 2 || root[0].GetString() != Hash(fingerprint)) return null;
            var keys = root[1];
            if (keys.GetArrayLength() != expectedKeys) return null;
            return [.. keys.EnumerateArray().Select(ToValue)];
        }
        catch (Exception e) when (e is FormatException or JsonException or InvalidOperationException)
        {
            return null;
        }
    }

    private static object? ToValue(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString(),
        JsonValueKind.Number when e.TryGetInt64(out var l) => l,
        JsonValueKind.Number => e.GetDouble(),
        JsonValueKind.Null => null,
        _ => throw new FormatException("Unexpected cursor value."),
    };

    private byte[] Sign(byte[] payload) => HMACSHA256.HashData(key, payload)[..16];

    private static string Hash(string fingerprint) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(fingerprint)).AsSpan(0, 8));
}
