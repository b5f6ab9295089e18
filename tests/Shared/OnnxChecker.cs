using System.Diagnostics;

namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Runs the independent checker from Debian's python3-onnx (onnx 1.12):
/// <c>onnx.checker.check_model(model, full_check=True)</c>, which also runs its shape inference.
/// </summary>
internal static class OnnxChecker
{
    private const string Script = "import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint('ok')";

    // Debian's python3-onnx installs for the system interpreter; a pyenv or venv python3 earlier on
    // PATH would not see it.
    private static readonly string Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    private static readonly Lazy<bool> s_available = new(() => Run(["-c", "import onnx"]).ExitCode == 0);

    public static void AssertValid(params string[] modelPaths)
    {
        Environments.Require(s_available.Value, "python3 with the onnx module (apt package python3-onnx)");
        var (exitCode, output) = Run(["-c", Script, .. modelPaths]);
        Assert.AreEqual(0, exitCode, $"onnx.checker.check_model(full_check=True) rejected {string.Join(", ", modelPaths)}:\n{output}");
    }

    private static (int ExitCode, string Output) Run(IEnumerable<string> arguments)
    {
        var start = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in arguments) start.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(start)!;
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, stdout.Result + stderr);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
