using System.Net;
using System.Text.RegularExpressions;
using HubApi.Data;
using HubApi.Http;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace HubApi.Tests;

/// <summary>
/// The rate limits as clients see them: every counted response carries its budget (RateLimit-Policy) and what is left
/// of it (RateLimit), counting down per key and per address apart, 429 + Retry-After past it, renewed when the window
/// ends. Windows are aligned on the epoch, so a test that must not straddle one waits for the next to begin.
/// </summary>
public sealed partial class RateLimitTests : IDisposable
{
    private const string AdminKey = "limits-admin-key-0123456789";
    private readonly List<IDisposable> owned = [];

    public void Dispose()
    {
        foreach (var item in Enumerable.Reverse(owned)) item.Dispose();
    }

    /// <summary>The service with these limits; each request's client address is the one its X-Test-Client header names.</summary>
    private (WebApplicationFactory<Program> Service, HttpClient Client) Start(int anonymous, int keyed, int windowSeconds, HubApiFactory? factory = null)
    {
        factory ??= new HubApiFactory();
        owned.Add(factory);
        var service = factory.With("Auth:AdminKey", AdminKey)
            .With("RateLimiting:AnonymousPermitsPerMinute", anonymous.ToString())
            .With("RateLimiting:KeyedPermitsPerMinute", keyed.ToString())
            .With("RateLimiting:WindowSeconds", windowSeconds.ToString())
            .WithWebHostBuilder(b => b.ConfigureServices(s => s.AddSingleton<IStartupFilter, ClientAddressFromHeader>()));
        owned.Add(service);
        var client = service.CreateClient();
        owned.Add(client);
        return (service, client);
    }

    /// <summary>Stands in for the proxy that would tell the service each client's address.</summary>
    private sealed class ClientAddressFromHeader : IStartupFilter
    {
        public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
        {
            app.Use((http, following) =>
            {
                if (http.Request.Headers["X-Test-Client"] is [{ } address]) http.Connection.RemoteIpAddress = IPAddress.Parse(address);
                return following(http);
            });
            next(app);
        };
    }

    private static async Task<HttpResponseMessage> Get(HttpClient client, string url, string? address = null, string? key = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        if (address is not null) request.Headers.Add("X-Test-Client", address);
        if (key is not null) request.Headers.Add("X-Api-Key", key);
        return await client.SendAsync(request);
    }

    [GeneratedRegex("""^"(?<name>[a-z]+)";r=(?<r>[0-9]+);t=(?<t>[0-9]+)$""")]
    private static partial Regex StateField();

    /// <summary>The RateLimit field: the budget's name, what is left, and the seconds until the window ends.</summary>
    private static (string Name, int Remaining, int Reset) Budget(HttpResponseMessage response)
    {
        var match = StateField().Match(response.Headers.GetValues("RateLimit").Single());
        Assert.True(match.Success, "RateLimit: " + response.Headers.GetValues("RateLimit").Single());
        return (match.Groups["name"].Value, int.Parse(match.Groups["r"].Value), int.Parse(match.Groups["t"].Value));
    }

    private static (string Name, int Remaining) Left(HttpResponseMessage response) => Budget(response) is var (name, remaining, _) ? (name, remaining) : default;

    /// <summary>Waits, if need be, until a window of this length has at least <paramref name="needed"/> left.</summary>
    private static async Task WithinOneWindow(int windowSeconds, TimeSpan needed)
    {
        var length = TimeSpan.FromSeconds(windowSeconds);
        var intoWindow = TimeSpan.FromMilliseconds(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() % (long)length.TotalMilliseconds);
        if (length - intoWindow < needed) await Task.Delay(length - intoWindow + TimeSpan.FromMilliseconds(50));
    }

    /// <summary>Per address, and per key (on PostgreSQL through the count the replicas share).</summary>
    [Theory]
    [InlineData(RateLimits.AnonymousPolicy)]
    [InlineData(RateLimits.KeyedPolicy)]
    public async Task TheBudgetCountsDownOnEveryAnswerAndIsRenewedWhenTheWindowEnds(string policy)
    {
        const int window = 6;
        var keyed = policy == RateLimits.KeyedPolicy;
        var (service, client) = Start(anonymous: keyed ? 0 : 3, keyed: keyed ? 3 : 0, window);
        var (key, otherKey) = keyed ? (AdminKey, service.Services.GetRequiredService<IStore>().Keys.Create("other", [ApiKeys.WriteScope]).Key) : (null, null);
        // Whatever the answer: a page, a record, a 404. Each is asked once first by another client: a first request is slow.
        string[] urls = ["/v1/zones", "/v1/zones/zhangjiang", "/v1/zones/nowhere"];
        foreach (var url in urls) (await Get(client, url, "192.0.2.99", otherKey)).Dispose();
        await WithinOneWindow(window, TimeSpan.FromSeconds(5));

        var expectedPolicy = $"\"{policy}\";q=3;w=6";
        for (var i = 0; i < 3; i++)
        {
            using var response = await Get(client, urls[i], "192.0.2.1", key);
            Assert.Equal(i < 2 ? HttpStatusCode.OK : HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal(expectedPolicy, response.Headers.GetValues("RateLimit-Policy").Single());
            var (name, remaining, reset) = Budget(response);
            Assert.Equal((policy, 2 - i), (name, remaining));
            Assert.InRange(reset, 1, window);
        }

        using var refused = await Get(client, "/v1/zones", "192.0.2.1", key);
        await refused.AssertProblem(HttpStatusCode.TooManyRequests);
        var (_, left, resetsIn) = Budget(refused);
        Assert.Equal(0, left);
        Assert.Equal(resetsIn, int.Parse(refused.Headers.GetValues("Retry-After").Single()));
        Assert.Equal(expectedPolicy, refused.Headers.GetValues("RateLimit-Policy").Single());

        // Retry-After later, the window has ended and the budget is whole again.
        await Task.Delay(TimeSpan.FromSeconds(resetsIn));
        using var renewed = await Get(client, "/v1/zones", "192.0.2.1", key);
        Assert.Equal(HttpStatusCode.OK, renewed.StatusCode);
        Assert.Equal((policy, 2), Left(renewed));
    }

    [Fact]
    public async Task EachKeyAndEachAddressHasItsOwnBudget()
    {
        const int window = 3600;
        var (service, client) = Start(anonymous: 5, keyed: 4, window);
        var partner = service.Services.GetRequiredService<IStore>().Keys.Create("partner", [ApiKeys.WriteScope]).Key;
        await WithinOneWindow(window, TimeSpan.FromSeconds(60));

        async Task<(string, int)> Next(string address, string? key = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var response = await Get(client, "/v1/firms/smic", address, key);
            Assert.Equal(expected, response.StatusCode);
            var (name, remaining, _) = Budget(response);
            return (name, remaining);
        }

        Assert.Equal(("keyed", 3), await Next("192.0.2.1", AdminKey));
        Assert.Equal(("keyed", 2), await Next("192.0.2.2", AdminKey));  // a key's budget follows the key, from any address
        Assert.Equal(("keyed", 3), await Next("192.0.2.1", partner));   // another key has its own
        Assert.Equal(("anonymous", 4), await Next("192.0.2.1"));        // requests with a key do not spend the address's budget
        Assert.Equal(("anonymous", 4), await Next("192.0.2.2"));
        Assert.Equal(("anonymous", 3), await Next("192.0.2.1"));
        Assert.Equal(("anonymous", 4), await Next("198.51.100.7", "hub_not-a-real-key")); // an unknown key counts as none
        // IPv6 clients are counted by /64: one subscriber's network, however many addresses it uses.
        Assert.Equal(("anonymous", 4), await Next("2001:db8:1:2::1"));
        Assert.Equal(("anonymous", 3), await Next("2001:db8:1:2:ffff::9"));
        Assert.Equal(("anonymous", 4), await Next("2001:db8:1:3::1"));

        Assert.Equal(("keyed", 1), await Next("192.0.2.1", AdminKey));
        Assert.Equal(("keyed", 0), await Next("192.0.2.1", AdminKey));
        Assert.Equal(("keyed", 0), await Next("192.0.2.1", AdminKey, HttpStatusCode.TooManyRequests));
        Assert.Equal(("keyed", 2), await Next("192.0.2.1", partner));
        Assert.Equal(("anonymous", 2), await Next("192.0.2.1"));
    }

    [Fact]
    public async Task WritesRevalidationsAndRefusalsCarryTheirBudgetToo()
    {
        var (_, client) = Start(anonymous: 100, keyed: 100, windowSeconds: 3600);
        await WithinOneWindow(3600, TimeSpan.FromSeconds(60));

        using var first = await Get(client, "/v1/zones/lingang");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/zones/lingang");
        request.Headers.TryAddWithoutValidation("If-None-Match", first.Headers.ETag!.Tag);
        using var notModified = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Equal(Budget(first).Remaining - 1, Budget(notModified).Remaining);

        using var withoutKey = await client.Send(HttpMethod.Post, "/v1/zones", """{"name":"X"}""");
        await withoutKey.AssertProblem(HttpStatusCode.Unauthorized);
        Assert.Equal(("anonymous", Budget(first).Remaining - 2), Left(withoutKey));

        using var created = await client.Send(HttpMethod.Post, "/v1/zones",
            """{"name":"Minhang Zone","district":"Minhang","industries":["integrated-circuits"],"citations":[{"source":"shanghai-digital-hub","quote":"A supporting quote."}]}""",
            AdminKey);
        await created.Expect(HttpStatusCode.Created);
        Assert.Equal("\"keyed\";q=100;w=3600", created.Headers.GetValues("RateLimit-Policy").Single());
        Assert.Equal(("keyed", 99), Left(created));

        using var invalid = await client.Send(HttpMethod.Post, "/v1/zones", """{"name":""}""", AdminKey);
        await invalid.AssertProblem(HttpStatusCode.BadRequest);
        Assert.Equal(("keyed", 98), Left(invalid));
    }

    [Fact]
    public async Task ASwitchedOffBudgetCountsNothingAndSaysNothing()
    {
        var (_, client) = Start(anonymous: 0, keyed: 2, windowSeconds: 60);
        for (var i = 0; i < 5; i++)
        {
            using var response = await Get(client, "/v1/zones");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit"));
            Assert.False(response.Headers.Contains("RateLimit-Policy"));
        }
        using var keyed = await Get(client, "/v1/zones", key: AdminKey);
        Assert.Equal("keyed", Budget(keyed).Name);
    }

    [Fact]
    public async Task BrowsersMayReadTheBudget()
    {
        var (_, client) = Start(anonymous: 10, keyed: 0, windowSeconds: 60);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/zones");
        request.Headers.Add("Origin", "https://front.example");
        using var response = await client.SendAsync(request);
        var exposed = response.Headers.GetValues("Access-Control-Expose-Headers").Single().Split(',', StringSplitOptions.TrimEntries);
        Assert.Contains("RateLimit", exposed);
        Assert.Contains("RateLimit-Policy", exposed);
    }

    /// <summary>
    /// A key's budget holds across replicas: two replicas on one database, a key's requests spread over both, and no
    /// more than its budget is admitted in the window, nor fewer than the budget less the permits each replica may
    /// hold unspent (one chunk: 1% of the budget).
    /// </summary>
    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task AKeysBudgetHoldsAcrossReplicas()
    {
        const int budget = 300, window = 3600;
        var database = new HubApiFactory(); // disposed last, dropping the database
        var (_, a) = Start(anonymous: 0, keyed: budget, window, database);
        var (_, b) = Start(anonymous: 0, keyed: budget, window, new HubApiFactory(database.DatabasePath) { KeepDatabase = true });
        await WithinOneWindow(window, TimeSpan.FromSeconds(120));

        // Uneven and concurrent: two requests on A for each on B, four at a time, until well past the budget.
        var admitted = 0;
        var refused = 0;
        var admittedAfterFirstRefusal = 0;
        for (var round = 0; round < (budget + 60) / 6; round++)
        {
            var responses = await Task.WhenAll(Get(a, "/v1/zones/lingang", key: AdminKey), Get(a, "/v1/zones", key: AdminKey),
                Get(b, "/v1/zones/lingang", key: AdminKey), Get(a, "/v1/firms/smic", key: AdminKey), Get(a, "/v1/zones", key: AdminKey),
                Get(b, "/v1/firms", key: AdminKey));
            foreach (var response in responses)
            {
                if (response.StatusCode == HttpStatusCode.TooManyRequests) refused++;
                else
                {
                    Assert.Equal(HttpStatusCode.OK, response.StatusCode);
                    admitted++;
                    if (refused > 0) admittedAfterFirstRefusal++;
                }
                Assert.Equal("keyed", Budget(response).Name);
                response.Dispose();
            }
        }

        var slack = 2 * Math.Max(1, budget / 100);
        Assert.InRange(admitted, budget - slack, budget);
        Assert.True(admittedAfterFirstRefusal <= slack, $"{admittedAfterFirstRefusal} admitted after the first 429");
        // The database counted chunks, not requests: what both replicas took is the budget, give or take a chunk each.
        var taken = database.Scalar<long>("select sum(taken) from rate_limit_windows where partition = 'admin'");
        Assert.InRange(taken, budget, budget + slack);
    }

    /// <summary>
    /// When the shared count cannot be reached (here its table is gone), each replica counts the key's budget alone:
    /// the budget still holds per replica, and no request fails for it.
    /// </summary>
    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task WithoutTheSharedCountAReplicaCountsAlone()
    {
        var database = new HubApiFactory();
        var (_, client) = Start(anonymous: 0, keyed: 10, windowSeconds: 3600, database);
        await WithinOneWindow(3600, TimeSpan.FromSeconds(60));
        database.Execute("alter table rate_limit_windows rename to rate_limit_windows_away");
        try
        {
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 13; i++)
            {
                using var response = await Get(client, "/v1/zones/lingang", key: AdminKey);
                statuses.Add(response.StatusCode);
                Assert.Equal(("keyed", Math.Max(0, 9 - i)), Left(response));
            }
            Assert.Equal([.. Enumerable.Repeat(HttpStatusCode.OK, 10), .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)], statuses);
            Assert.Equal(0, database.Scalar<long>("select count(*) from rate_limit_windows_away")); // counted alone indeed
        }
        finally
        {
            database.Execute("alter table rate_limit_windows_away rename to rate_limit_windows");
        }
    }

    /// <summary>A manual clock, for the counters tested below without the service.</summary>
    private sealed class Clock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public async Task ThePartitionTableIsBoundedAndForgetsIdlePartitions()
    {
        var clock = new Clock(DateTimeOffset.UnixEpoch.AddDays(20_000));
        var counter = new LocalRateCounter<string>(permits: 5, new RateWindow(60, clock), capacity: 2);
        Assert.Equal(4, counter.Acquire("a").Remaining);
        Assert.Equal(4, counter.Acquire("b").Remaining);
        Assert.Equal(3, counter.Acquire("b").Remaining);
        // The table is full: newcomers share one budget until the window ends.
        Assert.Equal(4, counter.Acquire("c").Remaining);
        Assert.Equal(3, counter.Acquire("d").Remaining);
        Assert.Equal(2, counter.Partitions);

        // The next window: partitions idle since the last are forgotten, and each client has its own budget again.
        clock.Now += TimeSpan.FromSeconds(60);
        Assert.Equal(4, counter.Acquire("a").Remaining);
        for (var i = 0; i < 100 && counter.Partitions > 1; i++) await Task.Delay(20);
        Assert.Equal(1, counter.Partitions);
        Assert.Equal(4, counter.Acquire("c").Remaining);
        Assert.Equal(3, counter.Acquire("c").Remaining);
        Assert.Equal(2, counter.Partitions);
    }
}
