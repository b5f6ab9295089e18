using System.Diagnostics;
using System.Text.Json;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

[TestClass]
[DoNotParallelize]
public sealed class InspectTests
{
    private static string QuickstartModel(TempFolder temp)
    {
        var (exitCode, output, error) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "1", "--ep", "cpu");
        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        return Path.Combine(temp.Path, "models", "mlp.onnx");
    }

    [TestMethod]
    public void Inspect_QuickstartModel_ShowsIoOperatorsParametersAndMetadata()
    {
        using var temp = new TempFolder();
        var model = QuickstartModel(temp);

        var (exitCode, output, _) = CliRunner.Run("inspect", model);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output);
        StringAssert.Contains(output, "producer:     OnnxBridge 0.1.0");
        StringAssert.Contains(output, "IR version:   8; opsets ai.onnx 17");
        StringAssert.Contains(output, "input:        input: float32[batch, 20]");
        StringAssert.Contains(output, "output:       output: float32[batch, 10]");
        StringAssert.Contains(output, "parameters:   7,946 in 4 initializers (31,784 bytes)");
        StringAssert.Contains(output, "operators:    Gemm x2, Relu x1");
        StringAssert.Contains(output, "metadata:     onnxbridge.weights_sha256 = ");
    }

    [TestMethod]
    public void Inspect_Json_IsMachineReadable()
    {
        using var temp = new TempFolder();
        var model = QuickstartModel(temp);

        var (_, output, _) = CliRunner.Run("inspect", model, "--json");

        using var json = JsonDocument.Parse(output);
        Assert.AreEqual(7946, json.RootElement.GetProperty("parameters").GetInt64());
        CollectionAssert.AreEqual(new[] { "batch", "20" }, json.RootElement.GetProperty("inputs")[0].GetProperty("shape").EnumerateArray().Select(e => e.GetString()).ToArray());
        Assert.AreEqual(2, json.RootElement.GetProperty("operatorCounts").GetProperty("Gemm").GetInt32());
    }

    [TestMethod]
    public void Inspect_Dot_WritesAGraphvizPictureThatRenders()
    {
        using var temp = new TempFolder();
        var model = QuickstartModel(temp);

        CliRunner.Run("inspect", model, "--dot", temp.File("mlp.dot"));

        var dot = File.ReadAllText(temp.File("mlp.dot"));
        StringAssert.StartsWith(dot, "digraph \"Sequential\" {");
        StringAssert.Contains(dot, "label=\"Gemm\\n/0/Gemm\\n[0.weight, 0.bias]\"");
        Environments.Require(File.Exists("/usr/bin/dot"), "Graphviz's dot (apt package graphviz)");
        var start = new ProcessStartInfo("/usr/bin/dot") { RedirectStandardError = true };
        foreach (var a in new[] { "-Tsvg", temp.File("mlp.dot"), "-o", temp.File("mlp.svg") }) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.AreEqual(0, process.ExitCode, error);
        StringAssert.Contains(File.ReadAllText(temp.File("mlp.svg")), "/2/Gemm");
    }

    [TestMethod]
    public void Inspect_NotAModel_FailsNamingTheFile()
    {
        using var temp = new TempFolder();
        File.WriteAllText(temp.File("x.onnx"), "not protobuf at all, just text");

        var (exitCode, _, error) = CliRunner.Run("inspect", temp.File("x.onnx"));

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        StringAssert.StartsWith(error, $"error: '{temp.File("x.onnx")}' is not a valid ONNX model");
    }
}
