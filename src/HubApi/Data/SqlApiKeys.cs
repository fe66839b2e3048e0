using System.Data.Common;
using System.Security.Cryptography;
using Dapper;

namespace HubApi.Data;

/// <summary>API keys in the api_keys table, which every engine keeps alike: the statements are plain SQL both speak.</summary>
/// <param name="open">Opens a connection to the engine's database.</param>
public sealed class SqlApiKeys(Func<DbConnection> open) : IApiKeyStore
{
    public (ApiKeyInfo Info, string Key) Create(string name, IEnumerable<string> scopes)
    {
        var key = ApiKeys.NewKey();
        var info = new ApiKeyInfo(ApiKeys.NewId(), name, string.Join(' ', scopes.Distinct(StringComparer.Ordinal)), Timestamps.Now(), null);
        const string sql = """
            insert into api_keys (id, name, hash, scopes, created_at)
            values (@Id, @Name, @hash, @Scopes, @CreatedAt)
            """;
        using var connection = open();
        connection.Execute(sql, new { info.Id, info.Name, hash = Convert.ToHexStringLower(ApiKeys.Hash(key)), info.Scopes, info.CreatedAt });
        return (info, key);
    }

    public bool NameInUse(string name)
    {
        using var connection = open();
        return connection.ExecuteScalar<long>("select count(*) from api_keys where name = @name and revoked_at is null", new { name }) > 0;
    }

    public List<ApiKeyInfo> List()
    {
        const string sql = """
            select id, name, scopes, created_at as CreatedAt, revoked_at as RevokedAt
            from api_keys order by created_at, id
            """;
        using var connection = open();
        return [.. connection.Query<ApiKeyInfo>(sql)];
    }

    public int Revoke(string nameOrId)
    {
        const string sql = """
            update api_keys set revoked_at = @now
            where revoked_at is null and (id = @nameOrId or name = @nameOrId)
            """;
        using var connection = open();
        return connection.Execute(sql, new { nameOrId, now = Timestamps.Now() });
    }

    public ApiKeyInfo? Find(byte[] hash)
    {
        const string sql = """
            select id, name, scopes, created_at as CreatedAt, revoked_at as RevokedAt, hash
            from api_keys where hash = @hash and revoked_at is null
            """;
        using var connection = open();
        var row = connection.QuerySingleOrDefault<KeyRow>(sql, new { hash = Convert.ToHexStringLower(hash) });
        // The lookup compares digests, which a caller cannot steer; the final comparison is constant-time all the same.
        if (row is null || !CryptographicOperations.FixedTimeEquals(Convert.FromHexString(row.Hash), hash)) return null;
        return new ApiKeyInfo(row.Id, row.Name, row.Scopes, row.CreatedAt, row.RevokedAt);
    }

    private sealed record KeyRow(string Id, string Name, string Scopes, string CreatedAt, string? RevokedAt, string Hash);
}
