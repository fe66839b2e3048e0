using System.Net;
using System.Net.Sockets;
using HubApi.Data.Postgres;
using Npgsql;

namespace HubApi.Tests;

/// <summary>What PostgreSQL's faults become for clients: 503 with Retry-After while the server is away, 507 for a full disk, never a 500.</summary>
public sealed class PostgresFaultTests : WriteTest
{
    [Theory]
    [InlineData("53100", 507)]
    [InlineData("57P01", 503)]
    [InlineData("57P02", 503)]
    [InlineData("57P03", 503)]
    [InlineData("53300", 503)]
    [InlineData("40001", 503)]
    [InlineData("40P01", 503)]
    [InlineData("08006", 503)]
    [InlineData("25006", 503)]
    [InlineData("23505", null)]
    public void ServerErrorsAreClassified(string sqlState, int? status)
    {
        using var store = new PostgresStore("Host=127.0.0.1;Port=1;Database=none", Catalog.Resources);
        var fault = store.Fault(new PostgresException("test", "ERROR", "ERROR", sqlState));
        Assert.Equal(status, fault?.Status);
        if (fault is not null) Assert.True(fault.RetryAfterSeconds > 0);
    }

    [Fact]
    public void AServerThatCannotBeReachedIsTemporary()
    {
        using var store = new PostgresStore("Host=127.0.0.1;Port=1;Database=none", Catalog.Resources);
        var refused = Assert.ThrowsAny<NpgsqlException>(() => store.IsReady());
        Assert.Equal(503, store.Fault(refused)?.Status);
        Assert.Equal(503, store.Fault(new NpgsqlException("broken", new SocketException()))?.Status);
    }

    [PostgresFact, Trait("Provider", "Postgres")]
    public async Task ConnectionsEndedByTheServerAreAnswered503ThenTheServiceRecovers()
    {
        Assert.Equal(HttpStatusCode.OK, (await Client.GetAsync("/v1/zones?limit=1")).StatusCode);
        (await Post("/v1/services", """{"name":"Before the restart"}""")).EnsureSuccessStatusCode();
        // As in a restart of the server: every connection the service holds ends (57P01).
        Factory.Execute("select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()");

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 40 && statuses.LastOrDefault() != HttpStatusCode.OK; i++)
        {
            // A new URL each time, so the response cache does not answer.
            using var response = await Client.GetAsync($"/v1/zones?limit={i % 100 + 1}&count=true");
            statuses.Add(response.StatusCode);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"GET answered {(int)response.StatusCode}");
            if (response.StatusCode == HttpStatusCode.ServiceUnavailable)
            {
                await response.AssertProblem(HttpStatusCode.ServiceUnavailable);
                Assert.True(response.Headers.RetryAfter?.Delta > TimeSpan.Zero);
            }
        }
        Assert.Equal(HttpStatusCode.OK, statuses.Last());
        using var written = await Post("/v1/services", """{"name":"After the restart"}""");
        Assert.True(written.StatusCode is HttpStatusCode.Created or HttpStatusCode.ServiceUnavailable, $"POST answered {(int)written.StatusCode}");
        (await Post("/v1/services", """{"name":"Later still"}""")).EnsureSuccessStatusCode();
    }
}
