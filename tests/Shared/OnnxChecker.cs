namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Runs the independent checker from Debian's python3-onnx (onnx 1.12):
/// <c>onnx.checker.check_model(model, full_check=True)</c>, which also runs its shape inference.
/// </summary>
internal static class OnnxChecker
{
    private const string Script = "import sys, onnx\nfor p in sys.argv[1:]:\n    onnx.checker.check_model(onnx.load(p), full_check=True)\nprint('ok')";

    private static readonly Lazy<bool> s_available = new(() => SystemPython.Has("onnx"));

    public static void AssertValid(params string[] modelPaths)
    {
        Environments.Require(s_available.Value, "python3 with the onnx module (apt package python3-onnx)");
        var (exitCode, output) = SystemPython.Run(Script, modelPaths);
        Assert.AreEqual(0, exitCode, $"onnx.checker.check_model(full_check=True) rejected {string.Join(", ", modelPaths)}:\n{output}");
    }
}
