namespace HubApi.Tests;

public sealed class CliTests
{
    [Theory]
    [InlineData("", "")]
    [InlineData("--urls http://127.0.0.1:5000", "")]
    [InlineData("--urls=http://127.0.0.1:5000 --environment Production", "")]
    [InlineData("ConnectionStrings:Hub=Data", "")]
    [InlineData("backup /tmp/x.db", "backup /tmp/x.db")]
    [InlineData("--urls http://127.0.0.1:5000 openapi out.yaml", "openapi out.yaml")]
    public void CommandWordsAreTheArgumentsThatAreNotConfigurationSwitches(string args, string words) =>
        Assert.Equal(words, string.Join(" ", CommandLine.Parse(args.Split(' ', StringSplitOptions.RemoveEmptyEntries)).Words));
}
