namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Runs scripts under a real PyTorch: Debian's python3-torch (1.13), which .ci/run installs. Used
/// to prove that files we write load in PyTorch and files PyTorch writes load here.
/// </summary>
internal static class PythonTorch
{
    private static readonly Lazy<bool> s_available = new(() => SystemPython.Has("torch"));

    /// <summary>Runs <paramref name="script"/> with <paramref name="arguments"/> as sys.argv[1:]; returns stdout, failing the test on a non-zero exit.</summary>
    public static string Run(string script, params string[] arguments)
    {
        Environments.Require(s_available.Value, "python3 with PyTorch (apt package python3-torch)");
        var (exitCode, output) = SystemPython.Run(script, arguments);
        Assert.AreEqual(0, exitCode, $"the PyTorch script failed:\n{output}");
        return output;
    }

    /// <summary>
    /// Runs a reference script that writes its files into a new folder (passed as sys.argv[1],
    /// before <paramref name="arguments"/>), named after <paramref name="label"/>; returns the folder.
    /// The folder stays in the temp folder after the run, so a failing comparison can be rerun by hand.
    /// </summary>
    public static string RunInNewFolder(string label, string script, params string[] arguments)
    {
        var folder = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "onnxbridge-tests", label + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        Run(script, [folder, .. arguments]);
        return folder;
    }
}
