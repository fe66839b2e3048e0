using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Claims;
using HubApi.Data;
using HubApi.Observability;
using Microsoft.AspNetCore.RateLimiting;

namespace HubApi.Http;

/// <summary>
/// The rate limits: a budget per API key ("keyed") and one per client address for requests without a valid key
/// ("anonymous"), each so many requests per fixed window (RateLimiting:KeyedPermitsPerMinute,
/// RateLimiting:AnonymousPermitsPerMinute; 0 switches one off; RateLimiting:WindowSeconds, a minute unless set). Every
/// response to a counted request carries the budget it was counted against as the IETF RateLimit-Policy and RateLimit
/// fields (draft-ietf-httpapi-ratelimit-headers-11): <c>"keyed";q=3000;w=60</c> and <c>"keyed";r=2999;t=42</c>. Over
/// budget, the answer is 429 with Retry-After, the seconds until the window ends.
/// </summary>
public sealed class RateLimits
{
    public const string KeyedPolicy = "keyed";
    public const string AnonymousPolicy = "anonymous";
    public const string PolicyHeader = "RateLimit-Policy";
    public const string StateHeader = "RateLimit";

    private readonly Budget<string>? keyed;
    private readonly Budget<IPAddress>? anonymous;

    public RateLimits(IConfiguration configuration, IStore store, TimeProvider clock, ILoggerFactory logs)
    {
        var settings = configuration.GetSection("RateLimiting");
        var (keyedPermits, anonymousPermits) = (Permits(settings, "KeyedPermitsPerMinute", 3000), Permits(settings, "AnonymousPermitsPerMinute", 600));
        var window = new RateWindow(settings.GetValue("WindowSeconds", 60), clock);
        if (keyedPermits > 0)
        {
            // Keys are shared by the replicas of one database, and so are their budgets; addresses are not (docs/scale-out.md).
            IRateCounter<string> counter = store.Permits is { } ledger
                ? new SharedRateCounter(keyedPermits, window, ledger, clock, logs.CreateLogger<SharedRateCounter>())
                : new LocalRateCounter<string>(keyedPermits, window);
            keyed = new(KeyedPolicy, keyedPermits, window, counter);
        }
        if (anonymousPermits > 0) anonymous = new(AnonymousPolicy, anonymousPermits, window, new LocalRateCounter<IPAddress>(anonymousPermits, window));
    }

    private static int Permits(IConfigurationSection settings, string name, int fallback) =>
        settings.GetValue(name, fallback) is >= 0 and var permits
            ? permits
            : throw new InvalidOperationException($"RateLimiting:{name} must be 0 (no limit) or a number of requests.");

    /// <summary>Whether any budget is on; with none (benchmarks), the limiter stays out of the pipeline.</summary>
    public bool Any => keyed is not null || anonymous is not null;

    /// <summary>One budget: its name, its RateLimit-Policy value, and what counts it.</summary>
    private sealed class Budget<TKey>(string name, int permits, RateWindow window, IRateCounter<TKey> counter) : IBudget
    {
        public string Name => name;

        public string Policy { get; } = $"\"{name}\";q={permits};w={window.Seconds}";

        public IRateCounter<TKey> Counter => counter;

        public string State(RateDecision decision) =>
            string.Create(CultureInfo.InvariantCulture, $"\"{name}\";r={decision.Remaining};t={decision.SecondsLeft}");
    }

    private interface IBudget
    {
        string Name { get; }

        string Policy { get; }

        string State(RateDecision decision);
    }

    /// <summary>Counts the request against its budget; refuses it with 429 when the budget is spent.</summary>
    public Task Invoke(HttpContext http, RequestDelegate next)
    {
        // Endpoints that opt out (the metrics scrape) are neither counted nor refused.
        if (http.GetEndpoint()?.Metadata.GetMetadata<DisableRateLimitingAttribute>() is not null) return next(http);
        // A key is read only when one is sent: the anonymous majority never builds a principal.
        if (http.Request.Headers.ContainsKey(ApiKeyAuthentication.Header) && http.User.FindFirst(ClaimTypes.NameIdentifier)?.Value is { } keyId)
            return keyed is null ? next(http) : Count(keyed, keyId, http, next);
        return anonymous is null ? next(http) : Count(anonymous, ClientOf(http.Connection.RemoteIpAddress), http, next);
    }

    private static Task Count<TKey>(Budget<TKey> budget, TKey partition, HttpContext http, RequestDelegate next)
    {
        var decision = budget.Counter.AcquireAsync(partition);
        return decision.IsCompletedSuccessfully ? Answer(budget, decision.Result, http, next) : AnswerAsync(budget, decision, http, next);
    }

    private static async Task AnswerAsync(IBudget budget, ValueTask<RateDecision> decision, HttpContext http, RequestDelegate next) =>
        await Answer(budget, await decision, http, next);

    private static Task Answer(IBudget budget, RateDecision decision, HttpContext http, RequestDelegate next)
    {
        // Set as the response starts, so that answers written after an exception (which clears the headers) carry them too.
        http.Response.OnStarting(WriteFields, new Counted(http.Response, budget, decision));
        if (decision.Admitted) return next(http);
        Instruments.RateLimitRejected(keyed: budget.Name == KeyedPolicy);
        http.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        http.Response.Headers.RetryAfter = decision.SecondsLeft.ToString(CultureInfo.InvariantCulture);
        return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests,
            detail: "Too many requests; retry after the number of seconds in Retry-After.").ExecuteAsync(http);
    }

    private sealed record Counted(HttpResponse Response, IBudget Budget, RateDecision Decision);

    private static readonly Func<object, Task> WriteFields = static state =>
    {
        var (response, budget, decision) = (Counted)state;
        response.Headers[PolicyHeader] = budget.Policy;
        response.Headers[StateHeader] = budget.State(decision);
        return Task.CompletedTask;
    };

    /// <summary>
    /// The partition of a client without a key: its address, or for IPv6 its /64 network, which one subscriber usually
    /// holds whole (counting each of its addresses apart would give it 2^64 budgets).
    /// </summary>
    internal static IPAddress ClientOf(IPAddress? address)
    {
        if (address is null) return IPAddress.None; // in-memory test servers have none
        if (address.AddressFamily != AddressFamily.InterNetworkV6 || address.IsIPv4MappedToIPv6) return address;
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out _);
        bytes[8..].Clear();
        return new IPAddress(bytes);
    }
}
