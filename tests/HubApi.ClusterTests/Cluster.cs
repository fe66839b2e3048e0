using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using Npgsql;
using Xunit.Sdk;

namespace HubApi.ClusterTests;

/// <summary>
/// The cluster deploy/cluster.sh starts, in a run folder of its own under the temp folder: a PostgreSQL primary with a
/// synchronous standby, two HubApi replicas and nginx on loopback. Every test of <see cref="ClusterTests"/> shares it;
/// the script's own commands restart, fail over and stop it, so the tests also prove the script.
/// </summary>
public sealed class Cluster : IDisposable
{
    public const string Replicas = "2";

    /// <summary>Anonymous requests per minute per client address and replica: low, so the forwarded-headers test reaches it.</summary>
    public const int AnonymousPermitsPerMinute = 30;

    /// <summary>cluster.sh's run folder: HUBAPI_CLUSTER_RUN (test.sh's, so it can stop what a crashed run left), or a new one.</summary>
    public string Run { get; } = Environment.GetEnvironmentVariable("HUBAPI_CLUSTER_RUN") is { Length: > 0 } run
        ? run
        : Path.Combine(Path.GetTempPath(), $"hubapi-cluster-{Guid.NewGuid():N}");
    public int NginxPort { get; private set; }
    public int PrimaryPort { get; private set; }
    public int StandbyPort { get; private set; }
    public string AdminKey { get; private set; } = "";

    /// <summary>The server that takes writes: the primary, or the standby once promoted.</summary>
    public int WritablePort { get; private set; }

    /// <summary>nginx, replica 1 and replica 2, each sending the admin key (keyed requests have no rate limit here).</summary>
    public HttpClient Nginx { get; private set; } = null!;
    public HttpClient A { get; private set; } = null!;
    public HttpClient B { get; private set; } = null!;

    public static bool Enabled => Environment.GetEnvironmentVariable("HUBAPI_CLUSTER_TESTS") == "1";

    private int basePort;

    public Cluster()
    {
        if (!Enabled) return;
        Directory.CreateDirectory(Run);
        var clock = Stopwatch.StartNew();
        for (var attempt = 1; ; attempt++)
        {
            // nginx on BASE, PostgreSQL on BASE+1 and +2, the replicas on BASE+11 and +12: below the ephemeral range.
            basePort = 20000 + Random.Shared.Next(0, 800) * 10;
            var (exit, output) = Script("start", Replicas, basePort.ToString());
            if (exit == 0) break;
            if (attempt < 5 && output.Contains("is taken")) continue;
            throw new InvalidOperationException("deploy/cluster.sh start failed:\n" + output);
        }
        StartUp = clock.Elapsed;
        var state = File.ReadAllLines(Path.Combine(Run, "state")).Select(l => l.Split('=', 2)).Where(p => p.Length == 2)
            .ToDictionary(p => p[0], p => p[1]);
        NginxPort = int.Parse(state["NGINX_PORT"]);
        PrimaryPort = int.Parse(state["PRIMARY_PORT"]);
        StandbyPort = int.Parse(state["STANDBY_PORT"]);
        WritablePort = PrimaryPort;
        AdminKey = File.ReadAllText(Path.Combine(Run, "admin-key")).Trim();
        Nginx = Client(NginxPort);
        A = Client(ReplicaPort(1));
        B = Client(ReplicaPort(2));
    }

    /// <summary>How long deploy/cluster.sh start took.</summary>
    public TimeSpan StartUp { get; }

    public int ReplicaPort(int replica) => basePort + 10 + replica;

    private HttpClient Client(int port)
    {
        var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };
        client.DefaultRequestHeaders.Add("X-Api-Key", AdminKey);
        return client;
    }

    /// <summary>An anonymous client whose connections come from <paramref name="local"/> (any 127.x.y.z is this machine).</summary>
    public HttpClient From(string local, int port) => new(new SocketsHttpHandler
    {
        ConnectCallback = async (context, cancel) =>
        {
            var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            socket.Bind(new IPEndPoint(IPAddress.Parse(local), 0));
            await socket.ConnectAsync(context.DnsEndPoint, cancel);
            return new NetworkStream(socket, ownsSocket: true);
        },
    })
    { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };

    /// <summary>Runs deploy/cluster.sh with this cluster's run folder; the replicas inherit the settings set here.</summary>
    public (int ExitCode, string Output) Script(params string[] args)
    {
        var start = new ProcessStartInfo("bash", [Path.Combine(RepoRoot, "deploy", "cluster.sh"), .. args])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.Environment["CLUSTER_RUN"] = Run;
        start.Environment["RateLimiting__AnonymousPermitsPerMinute"] = AnonymousPermitsPerMinute.ToString();
        start.Environment["RateLimiting__KeyedPermitsPerMinute"] = "0";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(4)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"deploy/cluster.sh {string.Join(' ', args)} did not finish in 4 minutes:\n{stdout.Result}{stderr.Result}");
        }
        return (process.ExitCode, stdout.Result + stderr.Result);
    }

    /// <summary>Runs a cluster.sh command that must succeed.</summary>
    public void Do(params string[] args)
    {
        var (exit, output) = Script(args);
        Assert.True(exit == 0, $"deploy/cluster.sh {string.Join(' ', args)} failed:\n{output}");
        if (args[0] == "promote") WritablePort = StandbyPort;
    }

    public int ReplicaPid(int replica) => int.Parse(File.ReadAllLines(Path.Combine(Run, "pids", $"hubapi-{replica}.pid"))[0]);

    /// <summary>SIGKILL: the replica dies at once, requests in flight and all.</summary>
    public void Kill(int replica)
    {
        using var process = Process.GetProcessById(ReplicaPid(replica));
        process.Kill();
        process.WaitForExit();
    }

    /// <summary>Brings back any replica a test left dead (a failed test must not fail the next ones too).</summary>
    public async Task EnsureReplicasAsync()
    {
        for (var replica = 1; replica <= 2; replica++)
        {
            var ready = false;
            try
            {
                using var probe = await (replica == 1 ? A : B).GetAsync("/health/ready");
                ready = probe.IsSuccessStatusCode;
            }
            catch (HttpRequestException)
            {
            }
            if (!ready) Do("restart-replica", replica.ToString());
        }
    }

    /// <summary>A connection to the writable server's hubapi database, as the postgres superuser.</summary>
    public NpgsqlConnection Open(int? port = null)
    {
        var connection = new NpgsqlConnection($"Host=127.0.0.1;Port={port ?? WritablePort};Database=hubapi;Username=postgres;Pooling=false");
        connection.Open();
        return connection;
    }

    public T Scalar<T>(string sql, int? port = null)
    {
        using var connection = Open(port);
        using var command = new NpgsqlCommand(sql, connection);
        return (T)Convert.ChangeType(command.ExecuteScalar()!, typeof(T));
    }

    /// <summary>The error lines the replicas logged, for a failing assertion to show.</summary>
    public string Errors() => string.Join("\n", Directory.GetFiles(Path.Combine(Run, "logs"), "hubapi-*.log")
        .SelectMany(File.ReadLines).Where(l => l.Contains("\"LogLevel\":\"Error\"") || l.Contains("\"LogLevel\":\"Critical\"")).TakeLast(5));

    public void Dispose()
    {
        if (!Enabled) return;
        Nginx?.Dispose();
        A?.Dispose();
        B?.Dispose();
        Script("stop");
        if (Environment.GetEnvironmentVariable("HUBAPI_CLUSTER_KEEP") != "1") Directory.Delete(Run, recursive: true);
    }

    private static string RepoRoot { get; } = FindRoot();

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HubApi.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("HubApi.sln not found above " + AppContext.BaseDirectory);
    }
}

/// <summary>A test of the running cluster: run by test.sh (HUBAPI_CLUSTER_TESTS=1), skipped elsewhere.</summary>
public sealed class ClusterFactAttribute : FactAttribute
{
    public ClusterFactAttribute()
    {
        if (!Cluster.Enabled) Skip = "needs the cluster (HUBAPI_CLUSTER_TESTS=1; test.sh sets it)";
    }
}

/// <summary>The order the tests run in: the ones that fail over the database come last.</summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class OrderAttribute(int step) : Attribute
{
    public int Step { get; } = step;
}

public sealed class ByOrder : ITestCaseOrderer
{
    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases.OrderBy(t => t.TestMethod.Method.GetCustomAttributes(typeof(OrderAttribute).AssemblyQualifiedName)
            .Select(a => (int)a.GetConstructorArguments().First()).DefaultIfEmpty(int.MaxValue).First());
}
