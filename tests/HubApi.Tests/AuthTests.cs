using System.Net;
using System.Security.Cryptography;
using System.Text;
using HubApi.Keys;

namespace HubApi.Tests;

public sealed class AuthTests : WriteTest
{
    public static readonly TheoryData<string, string> Writes = new()
    {
        { "POST", "/v1/firms" },
        { "PUT", "/v1/firms/smic" },
        { "PATCH", "/v1/firms/smic" },
        { "DELETE", "/v1/firms/smic" },
    };

    [Theory]
    [MemberData(nameof(Writes))]
    public async Task WriteWithoutKeyIs401WithChallenge(string method, string url)
    {
        using var response = await Client.Send(new HttpMethod(method), url, """{"name":"X"}""", key: null, ifMatch: "*",
            contentType: method == "PATCH" ? HubApi.Tests.Writes.MergePatch : "application/json");
        var problem = await response.AssertProblem(HttpStatusCode.Unauthorized);
        Assert.Equal("ApiKey", response.Headers.WwwAuthenticate.Single().Scheme);
        Assert.Contains("X-Api-Key", problem["detail"]!.GetValue<string>());
    }

    [Theory]
    [InlineData("hub_not-a-real-key")]
    [InlineData("test-admin-key-012345678")]
    [InlineData("")]
    public async Task WriteWithUnknownKeyIs401(string key)
    {
        using var response = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"X"}""", key);
        await response.AssertProblem(HttpStatusCode.Unauthorized);
        Assert.Equal("ApiKey", response.Headers.WwwAuthenticate.Single().Scheme);
        await Client.Problem("/v1/services/x", HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task ReadsStayAnonymousEvenWithABadKey()
    {
        await Client.Json("/v1/firms");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/v1/firms/smic");
        request.Headers.Add("X-Api-Key", "hub_wrong");
        using var response = await Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await Client.Json("/v1/changes");
    }

    [Fact]
    public async Task KeyWithoutWriteScopeIs403()
    {
        var key = CreateKey("auditor", "admin");
        using var response = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"X"}""", key);
        var problem = await response.AssertProblem(HttpStatusCode.Forbidden);
        Assert.Contains("write", problem["detail"]!.GetValue<string>());
    }

    [Fact]
    public async Task KeysCliCreatesListsAndRevokesKeysThatWorkOverHttp()
    {
        var (code, key, _) = Cli("keys", "create", "--name", "partner-a", "--scope", "write");
        Assert.Equal(0, code);
        Assert.Matches("^hub_[A-Za-z0-9_-]{43}$", key);

        using (var created = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"Partner service"}""", key))
            await created.Expect(HttpStatusCode.Created);

        var (listed, list, _) = Cli("keys", "list");
        Assert.Equal(0, listed);
        Assert.Contains("partner-a", list);
        Assert.DoesNotContain(key, list);
        Assert.DoesNotContain(key[4..], list);

        var (revoked, _, _) = Cli("keys", "revoke", "partner-a");
        Assert.Equal(0, revoked);
        using (var refused = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"Too late"}""", key))
            await refused.AssertProblem(HttpStatusCode.Unauthorized);
        var line = Cli("keys", "list").Output.Split('\n').Single(l => l.Contains("partner-a"));
        Assert.Matches(@"Z\s+20\d\d-\d\d-\d\dT[0-9:.]+Z$", line); // created, then revoked

        // The name is free again once revoked; revoking by id works too.
        var (again, second, _) = Cli("keys", "create", "--name", "partner-a");
        Assert.Equal(0, again);
        Assert.NotEqual(key, second);
        var id = Factory.Scalar<string>("select id from api_keys where name = 'partner-a' and revoked_at is null");
        Assert.Equal(0, Cli("keys", "revoke", id).Code);
    }

    [Theory]
    [InlineData(2, "keys")]
    [InlineData(2, "keys", "rotate")]
    [InlineData(2, "keys", "create")]
    [InlineData(2, "keys", "create", "--name", "has space")]
    [InlineData(2, "keys", "create", "--name", "x", "--scope", "root")]
    [InlineData(1, "keys", "revoke", "nobody")]
    public void KeysCliRefusesBadCommands(int expected, params string[] args)
    {
        var (code, output, error) = Cli(args);
        Assert.Equal(expected, code);
        Assert.Equal("", output);
        Assert.NotEqual("", error);
    }

    [Fact]
    public void KeysCliRefusesASecondLiveKeyWithTheSameName()
    {
        Assert.Equal(0, Cli("keys", "create", "--name", "partner-b").Code);
        Assert.Equal(1, Cli("keys", "create", "--name", "partner-b").Code);
    }

    [Fact]
    public void KeysAreStoredOnlyAsHashes()
    {
        var key = CreateKey("partner-c", "write");
        var row = TestDatabase.Query<(string Id, string Hash, string Scopes)>(Factory.DatabasePath, "select id, hash, scopes from api_keys where name = 'partner-c'").Single();
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), row.Hash);
        Assert.Equal("write", row.Scopes);
        var everything = string.Join("|", TestDatabase.Query<string>(Factory.DatabasePath, "select id || name || hash || scopes || created_at from api_keys"));
        Assert.DoesNotContain(key[4..], everything);
    }

    [Fact]
    public async Task IdempotencyKeysAreScopedToTheApiKey()
    {
        var partner = CreateKey("partner-d", "write");
        using (var first = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"Mine"}""", AdminKey, idempotencyKey: "same"))
            await first.Expect(HttpStatusCode.Created);
        using var other = await Client.Send(HttpMethod.Post, "/v1/services", """{"name":"Theirs"}""", partner, idempotencyKey: "same");
        await other.Expect(HttpStatusCode.Created);
    }

    [Fact]
    public void ATooShortAdminKeyStopsStartUp()
    {
        Factory.With("Auth:AdminKey", "short");
        Assert.ThrowsAny<Exception>(() => Client);
    }

    /// <summary>Runs the keys CLI in-process with this test's service and its database.</summary>
    private (int Code, string Output, string Error) Cli(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = KeysCli.Run(CommandLine.Parse(args), (HubApi.Data.IStore)Factory.Services.GetService(typeof(HubApi.Data.IStore))!, output, error);
        return (code, output.ToString().Trim(), error.ToString().Trim());
    }

    private string CreateKey(string name, string scope)
    {
        var (code, key, error) = Cli("keys", "create", "--name", name, "--scope", scope);
        Assert.True(code == 0, error);
        return key;
    }

}
