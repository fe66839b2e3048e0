namespace HubApi.Tests;

public static class Repo
{
    /// <summary>The repository root: the folder holding HubApi.sln.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "HubApi.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("HubApi.sln not found above " + AppContext.BaseDirectory);
    }
}
