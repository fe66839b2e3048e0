using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace HubApi.Data;

/// <summary>An API key as stored: never the key itself, only its SHA-256 hash.</summary>
public sealed record ApiKeyInfo(string Id, string Name, string Scopes, string CreatedAt, string? RevokedAt)
{
    public IEnumerable<string> ScopeList => Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Creates, lists, revokes and finds API keys, by their hashes.</summary>
public interface IApiKeyStore
{
    /// <summary>Stores a new key and returns it with its record; the key is not kept anywhere.</summary>
    (ApiKeyInfo Info, string Key) Create(string name, IEnumerable<string> scopes);

    bool NameInUse(string name);

    List<ApiKeyInfo> List();

    /// <summary>Revokes the live key with this name, or the key with this id; returns the keys revoked.</summary>
    int Revoke(string nameOrId);

    /// <summary>The live key whose hash this is, or null.</summary>
    ApiKeyInfo? Find(byte[] hash);
}

/// <summary>What API keys are, whatever stores them: their form, scopes and hash.</summary>
public static partial class ApiKeys
{
    public const string Prefix = "hub_";
    public const string WriteScope = "write";
    public const string AdminScope = "admin";
    public static readonly string[] KnownScopes = [WriteScope, AdminScope];
    /// <summary>Longer header values are refused before hashing: a real key is 47 characters.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>A new key: 32 random bytes, base64url, behind a prefix that makes it recognisable in a leak scan.</summary>
    public static string NewKey() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static string NewId() => "key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    public static partial Regex ValidName();
}
