using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Dapper;
using HubApi.Data;
using Microsoft.Data.Sqlite;

namespace HubApi.Keys;

/// <summary>An API key as stored: never the key itself, only its SHA-256 hash.</summary>
public sealed record ApiKeyInfo(string Id, string Name, string Scopes, string CreatedAt, string? RevokedAt)
{
    public IEnumerable<string> ScopeList => Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

/// <summary>Creates, lists, revokes and finds API keys.</summary>
public static partial class ApiKeyStore
{
    public const string Prefix = "hub_";
    public const string WriteScope = "write";
    public const string AdminScope = "admin";
    public static readonly string[] KnownScopes = [WriteScope, AdminScope];
    /// <summary>Longer header values are refused before hashing: a real key is 47 characters.</summary>
    public const int MaxKeyLength = 200;

    /// <summary>A new key: 32 random bytes, base64url, behind a prefix that makes it recognisable in a leak scan.</summary>
    public static string NewKey() => Prefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));

    public static byte[] Hash(string key) => SHA256.HashData(Encoding.UTF8.GetBytes(key));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")]
    public static partial Regex ValidName();

    /// <summary>Stores a new key and returns it with its record; the key is not kept anywhere.</summary>
    public static (ApiKeyInfo Info, string Key) Create(SqliteConnection connection, string name, IEnumerable<string> scopes)
    {
        var key = NewKey();
        var info = new ApiKeyInfo("key_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(6)), name,
            string.Join(' ', scopes.Distinct(StringComparer.Ordinal)), Db.Now(), null);
        const string sql = """
            insert into api_keys (id, name, hash, scopes, created_at)
            values (@Id, @Name, @hash, @Scopes, @CreatedAt)
            """;
        connection.Execute(sql, new { info.Id, info.Name, hash = Convert.ToHexStringLower(Hash(key)), info.Scopes, info.CreatedAt });
        return (info, key);
    }

    public static bool NameInUse(SqliteConnection connection, string name) =>
        connection.ExecuteScalar<long>("select count(*) from api_keys where name = @name and revoked_at is null", new { name }) > 0;

    public static List<ApiKeyInfo> List(SqliteConnection connection)
    {
        const string sql = """
            select id, name, scopes, created_at as CreatedAt, revoked_at as RevokedAt
            from api_keys order by created_at, id
            """;
        return [.. connection.Query<ApiKeyInfo>(sql)];
    }

    /// <summary>Revokes the live key with this name, or the key with this id; returns the keys revoked.</summary>
    public static int Revoke(SqliteConnection connection, string nameOrId)
    {
        const string sql = """
            update api_keys set revoked_at = @now
            where revoked_at is null and (id = @nameOrId or name = @nameOrId)
            """;
        return connection.Execute(sql, new { nameOrId, now = Db.Now() });
    }

    /// <summary>The live key whose hash this is, or null.</summary>
    public static ApiKeyInfo? Find(SqliteConnection connection, byte[] hash)
    {
        const string sql = """
            select id, name, scopes, created_at as CreatedAt, revoked_at as RevokedAt, hash
            from api_keys where hash = @hash and revoked_at is null
            """;
        var row = connection.QuerySingleOrDefault<KeyRow>(sql, new { hash = Convert.ToHexStringLower(hash) });
        // The lookup compares digests, which a caller cannot steer; the final comparison is constant-time all the same.
        if (row is null || !CryptographicOperations.FixedTimeEquals(Convert.FromHexString(row.Hash), hash)) return null;
        return new ApiKeyInfo(row.Id, row.Name, row.Scopes, row.CreatedAt, row.RevokedAt);
    }

    private sealed record KeyRow(string Id, string Name, string Scopes, string CreatedAt, string? RevokedAt, string Hash);
}
