using System.Security.Cryptography;
using System.Text;
using Dapper;
using HubApi.Data;
using Microsoft.Data.Sqlite;

namespace HubApi.Http;

/// <summary>
/// Idempotency-Key for POST: the first successful response is kept, per API key, for <see cref="Lifetime"/>,
/// and sent again for a retry with the same key and the same request; the same key with another request is refused.
/// Read and written inside the write's transaction, so two concurrent retries cannot both create.
/// </summary>
public static class Idempotency
{
    public const string Header = "Idempotency-Key";
    public const int MaxKeyLength = 255;
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(24);

    public sealed record Stored(string RequestHash, long Status, string? Location, string? ETag, byte[] Body);

    /// <summary>An error for a malformed key, or null: 1 to 255 visible ASCII characters.</summary>
    public static string? Check(string key) =>
        key.Length is > 0 and <= MaxKeyLength && key.All(c => c is > ' ' and <= '~')
            ? null
            : $"{Header} must be 1 to {MaxKeyLength} visible ASCII characters, such as a UUID.";

    /// <summary>What identifies a request for replay: method, path and body.</summary>
    public static string RequestHash(HttpRequest request, ReadOnlySpan<byte> body)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes($"{request.Method} {request.PathBase}{request.Path}\n"));
        hash.AppendData(body);
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    public static Stored? Find(SqliteConnection connection, SqliteTransaction tx, string owner, string key)
    {
        // Expired keys go first, so an old key starts afresh rather than replaying a stale response.
        connection.Execute("delete from idempotency_keys where created_at < @cutoff",
            new { cutoff = Db.Timestamp(DateTime.UtcNow - Lifetime) }, tx);
        const string sql = """
            select request_hash as RequestHash, status, location, etag, body
            from idempotency_keys where api_key_id = @owner and key = @key
            """;
        return connection.QuerySingleOrDefault<Stored>(sql, new { owner, key }, tx);
    }

    public static void Save(SqliteConnection connection, SqliteTransaction tx, string owner, string key, string requestHash,
        WrittenRecord response, string now)
    {
        const string sql = """
            insert into idempotency_keys (api_key_id, key, request_hash, status, location, etag, body, created_at)
            values (@owner, @key, @requestHash, @status, @location, @etag, @body, @now)
            """;
        connection.Execute(sql, new { owner, key, requestHash, status = response.Status, location = response.Location, etag = response.ETag, body = response.Body, now }, tx);
    }
}
