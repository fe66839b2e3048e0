using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace HubApi.Http;

/// <summary>
/// Idempotency-Key for POST: the first successful response is kept, per API key, for <see cref="Lifetime"/>,
/// and sent again for a retry with the same key and the same request; the same key with another request is refused.
/// Kept by the store inside the write's transaction, so two concurrent retries cannot both create.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    /// <summary>An error for a malformed key, or null: one header of 1 to 255 visible ASCII characters.</summary>
    public static string? Check(StringValues values) =>
        values is [{ Length: > 0 and <= MaxKeyLength } key] && !key.AsSpan().ContainsAnyExceptInRange('!', '~')
            ? null
            : $"Send one {Header} of 1 to {MaxKeyLength} visible ASCII characters, such as a UUID.";

    /// <summary>What identifies a request for replay: method, path and body.</summary>
    public static string RequestHash(HttpRequest request, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.PathBase}{request.Path}\n"));
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }
}
