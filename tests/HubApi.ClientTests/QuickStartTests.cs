using System.Diagnostics;
using System.Text.RegularExpressions;

namespace HubApi.ClientTests;

/// <summary>
/// The README's C# quick starts, run as written against the live service: each door's shell block in a folder of its
/// own (a new console project, the generator, the generated client), then its Program.cs with `dotnet run`.
/// </summary>
public sealed partial class QuickStartTests(LiveService service) : IClassFixture<LiveService>
{
    [Fact]
    public async Task NSwag() => Assert.Matches(@"(?m)^quantum-\w+ is at version 2$", await Run("nswag"));

    [Fact]
    public async Task Kiota() => Assert.Matches(@"(?m)^Semiconductor Manufacturing International Corporation in Lingang$[\s\S]*^404: .*no-such-firm", await Run("kiota"));

    [GeneratedRegex(@"^```(\w+) quickstart=([\w-]+)\n(.*?)^```$", RegexOptions.Multiline | RegexOptions.Singleline)]
    private static partial Regex Block();

    private async Task<string> Run(string door)
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepoRoot(), "README.md"));
        var blocks = Block().Matches(readme).Where(m => m.Groups[2].Value == door).ToList();
        var shell = Assert.Single(blocks, b => b.Groups[1].Value == "sh").Groups[3].Value;
        var program = Assert.Single(blocks, b => b.Groups[1].Value == "csharp").Groups[3].Value;

        var work = Directory.CreateTempSubdirectory($"hubapi-quickstart-{door}-");
        try
        {
            // The shell block ends in the project's folder: that is where Program.cs goes.
            var here = Path.Combine(work.FullName, ".project");
            await Exec(work.FullName, "bash", "-euo", "pipefail", "-c", shell + $"\npwd > '{here}'");
            var project = (await File.ReadAllTextAsync(here)).Trim();
            await File.WriteAllTextAsync(Path.Combine(project, "Program.cs"), program);
            return await Exec(project, "dotnet", "run");
        }
        finally
        {
            work.Delete(recursive: true);
        }
    }

    private async Task<string> Exec(string directory, string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file, arguments) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
        // What `dotnet test` sets for its own MSBuild would steer the quick start's: a partner's shell has none of it.
        foreach (var name in start.Environment.Keys.Where(k => k.StartsWith("MSBuild", StringComparison.OrdinalIgnoreCase) || k == "DOTNET_HOST_PATH").ToList())
            start.Environment.Remove(name);
        start.Environment["HUBAPI_URL"] = service.BaseAddress.ToString().TrimEnd('/');
        start.Environment["HUBAPI_KEY"] = service.AdminKey;
        start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
        start.Environment["DOTNET_NOLOGO"] = "1";
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited with {process.ExitCode}:\n{await output}\n{await errors}");
        return await output;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HubApi.sln"))) return dir.FullName;
        }
        throw new DirectoryNotFoundException("HubApi.sln not found above " + AppContext.BaseDirectory);
    }
}
