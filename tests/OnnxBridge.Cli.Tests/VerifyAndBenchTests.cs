using System.Diagnostics;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

[TestClass]
[DoNotParallelize]
public sealed class VerifyAndBenchTests
{
    private static string MakeBundle(TempFolder temp)
    {
        var (exitCode, output, error) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "1", "--ep", "cpu");
        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        return Path.Combine(temp.Path, "bundles", "mlp");
    }

    [TestMethod]
    public void Verify_QuickstartBundle_Passes()
    {
        using var temp = new TempFolder();
        var bundle = MakeBundle(temp);

        var (exitCode, output, _) = CliRunner.Run("verify", bundle);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output);
        StringAssert.Contains(output, "overall: PASS");
    }

    [TestMethod]
    public void Verify_RuntimeOptions_ReachOnnxRuntime()
    {
        using var temp = new TempFolder();
        var bundle = MakeBundle(temp);
        var optimized = temp.File("optimized.onnx");

        var (exitCode, output, _) = CliRunner.Run("verify", bundle, "--execution-mode", "parallel", "--inter-op-threads", "2", "--spinning", "off", "--graph-optimization", "basic", "--save-optimized", optimized);
        var (badCode, _, badError) = CliRunner.Run("verify", bundle, "--spinning", "sometimes");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output);
        Assert.IsTrue(File.Exists(optimized), "ONNX Runtime wrote the optimized model where --save-optimized said");
        Assert.AreEqual(OnnxBridgeCli.BadInput, badCode);
        StringAssert.Contains(badError, "--spinning 'sometimes' is not on or off");
    }

    [TestMethod]
    public void BenchOrt_ExportedModel_TimesRawWrapperAndBound_AndBenchServeServesIt()
    {
        using var temp = new TempFolder();
        var model = Path.Combine(MakeBundle(temp), "model.onnx");

        var (exitCode, output, error) = CliRunner.Run("bench-ort", model, "--batch", "1", "3", "--seconds", "0.01", "--intra-op-threads", "1");
        var (serveCode, served, serveError) = CliRunner.Run("bench-serve", "--model", model, "--clients", "2", "--requests", "20", "--warmup", "0");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, " batch   ORT raw   ORT Run  ORT bound  bound, on device  Run/raw  bound/raw  device/raw");
        Assert.AreEqual(2, output.Split('\n').Count(l => l.TrimStart().StartsWith("1 ", StringComparison.Ordinal) || l.TrimStart().StartsWith("3 ", StringComparison.Ordinal)), output);
        Assert.AreEqual(OnnxBridgeCli.Success, serveCode, served + serveError);
        StringAssert.Contains(served, "model.onnx, FP32, JSON requests of one row");
        Assert.IsTrue(served.Split('\n').Any(l => l.StartsWith("gRPC, dynamic batching", StringComparison.Ordinal) && l.Contains(" 20 ", StringComparison.Ordinal)), served);
    }

    [TestMethod]
    public void Verify_TamperedReference_FailsWithExitCodeOne()
    {
        using var temp = new TempFolder();
        var bundle = MakeBundle(temp);
        var testCase = OnnxTestCase.Read(bundle);
        var set = testCase.DataSets[0];
        var values = set.Outputs[0].Tensor.ToArray<float>();
        values[0] += 0.01f;
        OnnxTestCase.Write(bundle, testCase.Model,
            [new TestDataSet(set.Inputs, [new NamedTensor(set.Outputs[0].Name, HostTensor.Create<float>(values, [.. set.Outputs[0].Tensor.Shape]))])]);

        var (exitCode, output, _) = CliRunner.Run("verify", bundle);

        Assert.AreEqual(OnnxBridgeCli.CheckFailed, exitCode);
        StringAssert.Contains(output, "overall: FAIL");
    }

    [TestMethod]
    public void Verify_Json_ListsEveryCaseAndTheSummary()
    {
        using var temp = new TempFolder();
        var bundle = MakeBundle(temp);

        var (exitCode, output, _) = CliRunner.Run("verify", bundle, temp.File("missing"), "--json");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        using var json = System.Text.Json.JsonDocument.Parse(output);
        Assert.AreEqual(1, json.RootElement.GetProperty("passed").GetInt32());
        Assert.AreEqual(1, json.RootElement.GetProperty("errors").GetInt32());
        var cases = json.RootElement.GetProperty("cases");
        Assert.AreEqual("pass", cases[0].GetProperty("status").GetString());
        StringAssert.Contains(cases[1].GetProperty("error").GetString(), "model.onnx is missing");
    }

    [TestMethod]
    public void Verify_FolderWithoutModel_FailsWithExitCodeTwo()
    {
        using var temp = new TempFolder();

        var (exitCode, output, _) = CliRunner.Run("verify", temp.Path);

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        StringAssert.Contains(output, $"ERROR {temp.Path}  OnnxFileException: '{temp.Path}' is not an ONNX test case: model.onnx is missing");
        StringAssert.Contains(output, "verify: 0 passed, 0 failed, 1 could not run");
    }

    [TestMethod]
    public void Verify_OnnxConformanceData_PassCountDoesNotRegress()
    {
        Environments.Require(Directory.Exists(Environments.OnnxTestDataRoot), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");
        var cases = Directory.GetDirectories(Environments.OnnxTestDataRoot).SelectMany(Directory.GetDirectories).Order(StringComparer.Ordinal).ToArray();

        var (_, output, _) = CliRunner.Run(["verify", .. cases, "--brief", "--rtol", "1e-3", "--atol", "1e-7"]);

        var summary = output.Split('\n').Last(l => l.StartsWith("verify:", StringComparison.Ordinal));
        var passed = int.Parse(summary.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(passed >= 953, $"{summary} (docs/conformance.md records 953 passing of {cases.Length})");
        Assert.AreEqual(1081, cases.Length);
    }

    [TestMethod]
    public void Verify_AsSeparateProcess_RunsTheBuiltProgram()
    {
        using var temp = new TempFolder();
        var bundle = MakeBundle(temp);
        var program = Path.Combine(AppContext.BaseDirectory, "onnxbridge.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { program, "verify", bundle, "--ep", "cpu" }) start.ArgumentList.Add(a);

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd() + process.StandardError.ReadToEnd();
        process.WaitForExit();

        Assert.AreEqual(0, process.ExitCode, output);
        StringAssert.Contains(output, "overall: PASS");
    }

    [TestMethod]
    public void Bench_ShortRun_PrintsTheRatioTable()
    {
        var (exitCode, output, _) = CliRunner.Run("bench", "--batch", "1", "4", "--seconds", "0.01", "--threads", "1", "--spinning", "off");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output);
        StringAssert.Contains(output, "ONNX Runtime: threads 1 (intra) / 0 (inter), sequential, spinning off");
        StringAssert.Contains(output, "TorchSharp   ORT raw   ORT Run  ORT bound  Torch/bound  Run/raw  bound/raw");
        StringAssert.Contains(output, "ResNet CNN");
        var rows = output.Split('\n').Where(l => l.TrimStart().StartsWith("1 ", StringComparison.Ordinal) || l.TrimStart().StartsWith("4 ", StringComparison.Ordinal)).ToList();
        Assert.AreEqual(4, rows.Count, "two networks, two batch sizes each");
        foreach (var row in rows)
            Assert.IsTrue(double.Parse(row.Split(' ', StringSplitOptions.RemoveEmptyEntries)[^1], System.Globalization.CultureInfo.InvariantCulture) <= 1e-4, $"ONNX Runtime and TorchSharp disagree: {row}");
    }

    [TestMethod]
    public void BenchTrain_SmallRun_PrintsARatioPerNetwork()
    {
        var (exitCode, output, error) = CliRunner.Run("bench-train", "--rounds", "2", "--steps", "1", "--threads", "1");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "builder ms  plain ms  builder/plain");
        foreach (var network in new[] { "MLP 64-256-256-10", "MLP 784-1024-1024-10", "digits CNN" })
            Assert.IsTrue(output.Split('\n').Any(l => l.StartsWith(network, StringComparison.Ordinal) && l.TrimEnd().Split(' ').Last().Contains('.', StringComparison.Ordinal)), $"no row for {network}:\n{output}");
    }

    [TestMethod]
    public void BenchServe_SmallRun_ReportsEveryModeAgainstTheFloor()
    {
        var (exitCode, output, error) = CliRunner.Run("bench-serve", "--clients", "1", "4", "--requests", "40", "--warmup", "0", "--hidden", "16");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        foreach (var mode in new[] { "direct InferenceSession.Run", "direct OnnxModelSession.Run", "host, GET /v2/health/live", "host, no batching", "host, dynamic batching",
                     "REST binary, no batching", "REST binary, dynamic batching", "gRPC, no batching", "gRPC, dynamic batching" })
            Assert.IsTrue(output.Split('\n').Any(l => l.StartsWith(mode, StringComparison.Ordinal)), $"no row for {mode}:\n{output}");
        Assert.AreEqual(4, output.Split('\n').Count(l => l.StartsWith("host, ", StringComparison.Ordinal) && !l.Contains("health", StringComparison.Ordinal) && l.Contains(" 40 ", StringComparison.Ordinal)), output);
        Assert.IsFalse(output.Contains("failed)", StringComparison.Ordinal), output);
        StringAssert.Contains(output, "host overhead at 1 client (p50 over the floor):");
        StringAssert.Contains(output, "dynamic batching at 4 clients:");
        StringAssert.Contains(output, "gRPC overhead at 1 client (p50 over the floor):");
    }

    [TestMethod]
    public void BenchIo_SmallRun_TimesEveryFormatAgainstRawIo()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("bench-io", "--params", "100000", "--folder", temp.Path);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "floors: raw write");
        foreach (var format in new[] { ".safetensors", ".pt", ".dat" })
            Assert.IsTrue(output.Split('\n').Any(l => l.StartsWith(format, StringComparison.Ordinal)), $"no row for {format}:\n{output}");
        Assert.AreEqual(0, Directory.GetFiles(temp.Path).Length, "the benchmark removes its files");
    }

    [TestMethod]
    public void Help_EveryCommand_ShowsAnExample()
    {
        foreach (var command in new[] { "quickstart", "verify", "bench", "bench-ort", "bench-io", "bench-train", "bench-serve", "inspect", "export", "train", "serve" })
        {
            var (exitCode, output, _) = CliRunner.Run(command, "--help");
            Assert.AreEqual(0, exitCode);
            StringAssert.Contains(output, "Example: onnxbridge " + command);
        }
    }
}
