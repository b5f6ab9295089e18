using System.Diagnostics;

namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Runs Debian's system python3 (<c>/usr/bin/python3</c>), where apt packages such as python3-onnx
/// and python3-torch install; a pyenv or venv python3 earlier on PATH would not see them.
/// </summary>
internal static class SystemPython
{
    private static readonly string Python = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>Whether <c>import <paramref name="module"/></c> works.</summary>
    public static bool Has(string module) => Run($"import {module}", []).ExitCode == 0;

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> as sys.argv[1:]; stdout, plus stderr on failure.</summary>
    public static (int ExitCode, string Output) Run(string script, IEnumerable<string> arguments)
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
