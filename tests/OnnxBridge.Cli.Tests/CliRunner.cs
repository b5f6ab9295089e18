namespace OnnxBridge.Cli.Tests;

/// <summary>Runs the command tree in-process, capturing what it prints.</summary>
internal static class CliRunner
{
    public static (int ExitCode, string Output, string Error) Run(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exitCode = OnnxBridgeCli.Invoke(args, output, error);
        return (exitCode, output.ToString(), error.ToString());
    }
}
