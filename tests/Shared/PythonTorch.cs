using System.Diagnostics;

namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Runs scripts under a real PyTorch: Debian's python3-torch (1.13), which .ci/run installs. Used
/// to prove that files we write load in PyTorch and files PyTorch writes load here.
/// </summary>
internal static class PythonTorch
{
    private static readonly string Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private static readonly Lazy<bool> s_available = new(() => Execute("import torch", []).ExitCode == 0);

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> as sys.argv[1:]; returns stdout, failing the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        Environments.Require(s_available.Value, "python3 with PyTorch (apt package python3-torch)");
        var (exitCode, output) = Execute(script, arguments);
        Assert.AreEqual(0, exitCode, $"the PyTorch script failed:\n{output}");
        return output;
    }

    private static (int ExitCode, string Output) Execute(string script, IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(script);
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, process.ExitCode == 0 ? stdout : stdout + stderr.Result);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
