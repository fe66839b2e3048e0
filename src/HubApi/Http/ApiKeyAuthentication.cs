using System.Security.Claims;
using System.Security.Cryptography;
using System.Text.Encodings.Web;
using HubApi.Data;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace HubApi.Http;

public static class ApiKeyAuthentication
{
    public const string Scheme = "ApiKey";
    public const string Header = "X-Api-Key";
    public const string ScopeClaim = "scope";
    /// <summary>The authorization policy of every write endpoint.</summary>
    public const string WritePolicy = "write";
    /// <summary>The authorization policy of the audit log.</summary>
    public const string AdminPolicy = "admin";

    /// <summary>The name of the caller's key (never the key itself), which the writes it makes are recorded under.</summary>
    public static string KeyName(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.Name) ?? throw new InvalidOperationException("The endpoint does not require an API key.");

    /// <summary>Whether a key is all visible ASCII, as every key issued is and the admin key must be.</summary>
    public static bool IsPrintable(string key) => !key.AsSpan().ContainsAnyExceptInRange('!', '~');

    /// <summary>
    /// API keys as the default authentication scheme, so every later consumer (authorization, rate limiting)
    /// sees the caller's key as the request's user; a request without a key stays anonymous.
    /// </summary>
    public static IServiceCollection AddHubKeys(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddSingleton(AdminKey.From(configuration["Auth:AdminKey"]));
        // The core services only: the full AddAuthentication also brings data protection and its key ring, which API keys do not use.
        services.AddAuthenticationCore(o =>
        {
            o.AddScheme<ApiKeyHandler>(Scheme, null);
            o.DefaultScheme = Scheme;
        });
        services.AddWebEncoders();
        // Every keyed request meets the handler: a registered handler skips reflection activation.
        services.AddTransient<ApiKeyHandler>();
        services.AddAuthorizationBuilder().AddPolicy(WritePolicy, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ScopeClaim, ApiKeys.WriteScope))
            .AddPolicy(AdminPolicy, policy => policy
            .AddAuthenticationSchemes(Scheme)
            .RequireAuthenticatedUser()
            .RequireClaim(ScopeClaim, ApiKeys.AdminScope));
        return services;
    }

    /// <summary>
    /// Authenticates the requests that carry a key. The rest are anonymous whatever the handler would say, so they skip
    /// it, and the request scope it would need: reads, nearly all keyless, are answered without either. A write without
    /// a key is still challenged with 401, as its policy names the scheme.
    /// </summary>
    public static void UseApiKeys(this WebApplication app)
    {
        app.UseWhen(http => http.Request.Headers.ContainsKey(Header), keyed => keyed.UseAuthentication());
        // WebApplication puts UseAuthentication in front of everything unless the app called it (it looks for this
        // ASP.NET Core property); the branch above is that call. Were the property ever renamed, requests would only
        // pay for the handler again.
        ((IApplicationBuilder)app).Properties["__AuthenticationMiddlewareSet"] = true;
    }
}

/// <summary>
/// An X-Api-Key header that no key could be: several of them, or characters outside visible ASCII (bytes of another encoding,
/// control characters). The request is malformed, 400, rather than carrying a wrong key, 401.
/// </summary>
public sealed class MalformedKey(string message) : Exception(message);

/// <summary>The key given at start-up through Auth:AdminKey (Auth__AdminKey), held only as its hash.</summary>
public sealed class AdminKey(byte[]? hash)
{
    public const string Id = "admin";
    public const int MinLength = 16;

    public byte[]? Hash { get; } = hash;

    public static AdminKey From(string? key)
    {
        if (string.IsNullOrEmpty(key)) return new AdminKey(null);
        if (key.Length < MinLength || key.Length > ApiKeys.MaxKeyLength || !ApiKeyAuthentication.IsPrintable(key))
            throw new InvalidOperationException($"Auth:AdminKey must be {MinLength} to {ApiKeys.MaxKeyLength} visible ASCII characters.");
        return new AdminKey(ApiKeys.Hash(key));
    }
}

/// <summary>
/// Reads X-Api-Key, finds the key by its hash, and makes a principal carrying the key's id, name and scopes.
/// Challenges and refusals answer as problem documents. The key itself is never logged or stored.
/// </summary>
public sealed class ApiKeyHandler(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder,
    IStore store, AdminKey admin) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!Request.Headers.TryGetValue(ApiKeyAuthentication.Header, out var values)) return Task.FromResult(AuthenticateResult.NoResult());
        var key = values.ToString();
        if (values.Count > 1) return Task.FromResult(AuthenticateResult.Fail(new MalformedKey("Send one X-Api-Key header, with one key.")));
        if (!ApiKeyAuthentication.IsPrintable(key))
            return Task.FromResult(AuthenticateResult.Fail(new MalformedKey("An API key is visible ASCII characters: send it as it was issued.")));
        if (key.Length is 0 or > ApiKeys.MaxKeyLength) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid."));

        var hash = ApiKeys.Hash(key);
        ApiKeyInfo? found;
        if (admin.Hash is { } adminHash && CryptographicOperations.FixedTimeEquals(adminHash, hash))
        {
            found = new ApiKeyInfo(AdminKey.Id, AdminKey.Id, $"{ApiKeys.WriteScope} {ApiKeys.AdminScope}", "", null);
        }
        else
        {
            found = store.Keys.Find(hash);
        }
        if (found is null) return Task.FromResult(AuthenticateResult.Fail("The API key is not valid: it is unknown or revoked."));

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, found.Id),
            new Claim(ClaimTypes.Name, found.Name),
            .. found.ScopeList.Select(scope => new Claim(ApiKeyAuthentication.ScopeClaim, scope)),
        ], ApiKeyAuthentication.Scheme);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), ApiKeyAuthentication.Scheme)));
    }

    /// <summary>401 for a missing, unknown or revoked key; 400 for a header that cannot hold a key at all (see <see cref="MalformedKey"/>).</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        if (result.Failure is MalformedKey malformed)
        {
            await Problems.Invalid(ApiKeyAuthentication.Header, malformed.Message).ExecuteAsync(Context);
            return;
        }
        Response.Headers.WWWAuthenticate = ApiKeyAuthentication.Scheme;
        await TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized,
            detail: result.Failure?.Message ?? (RequiredScope == ApiKeys.WriteScope
                ? $"Writes need an API key in the {ApiKeyAuthentication.Header} header."
                : $"This needs an API key with the '{RequiredScope}' scope in the {ApiKeyAuthentication.Header} header.")).ExecuteAsync(Context);
    }

    protected override Task HandleForbiddenAsync(AuthenticationProperties properties) =>
        TypedResults.Problem(statusCode: StatusCodes.Status403Forbidden,
            detail: RequiredScope == ApiKeys.WriteScope
                ? $"This API key lacks the '{ApiKeys.WriteScope}' scope that writes need."
                : $"This API key lacks the '{RequiredScope}' scope that this needs.").ExecuteAsync(Context);

    /// <summary>The scope the endpoint's policy asks for: policies are named after their scope (writes: write; metrics: Telemetry:MetricsScope).</summary>
    private string RequiredScope => Context.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Authorization.IAuthorizeData>()?.Policy ?? ApiKeys.WriteScope;
}
