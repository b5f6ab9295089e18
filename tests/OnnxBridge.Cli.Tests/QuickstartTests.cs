using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

[TestClass]
[DoNotParallelize]
public sealed class QuickstartTests
{
    [TestMethod]
    public void Quickstart_Auto_RunsEndToEndAndPrintsPassingParity()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "2", "--ep", "auto");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "reloaded into a fresh network: max |Δ| = 0e+0 (bit-identical)");
        StringAssert.Contains(output, "tolerance: |Δ| ≤ 1e-5 + 1e-5·|ref|");
        StringAssert.Contains(output, "overall: PASS");
        foreach (var file in new[] { "models/mlp.safetensors", "models/mlp.onnx", "bundles/mlp/model.onnx", "bundles/mlp/test_data_set_2/output_0.pb" })
            Assert.IsTrue(File.Exists(Path.Combine(temp.Path, file)), $"{file} was not written");
        var lastSet = OnnxTestCase.Read(Path.Combine(temp.Path, "bundles", "mlp")).DataSets[2];
        Assert.AreEqual("[64, 20]", HostTensor.FormatShape(lastSet.Inputs[0].Tensor.Shape));
        OnnxChecker.AssertValid(Path.Combine(temp.Path, "models", "mlp.onnx"));
        // One export: the bundle holds the very model written to models/ (the old flow exported twice).
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(temp.Path, "models", "mlp.onnx")), File.ReadAllBytes(Path.Combine(temp.Path, "bundles", "mlp", "model.onnx")));
        ImportRoundTrip.AssertRoundTrips(Path.Combine(temp.Path, "bundles", "mlp"));   // export → import → export
    }

    [TestMethod]
    public void Quickstart_OutputToAFile_HasNoControlCharacters()
    {
        using var temp = new TempFolder();

        var (_, output, _) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "1", "--ep", "cpu");

        Assert.IsFalse(output.Any(ch => char.IsControl(ch) && ch is not '\n'), "non-terminal output must be plain lines");
        StringAssert.Contains(output, "epoch 1/1  loss");
    }

    [TestMethod]
    public void Quickstart_AutoWithoutGpu_SaysItRunsOnCpu()
    {
        using var temp = new TempFolder();

        var (_, output, _) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "1", "--ep", "auto");

        if (output.Contains("CUDAExecutionProvider (device", StringComparison.Ordinal)) Assert.Inconclusive("CUDA loads here: the CPU fallback cannot be observed");
        StringAssert.Contains(output, "WARNING: CUDA execution provider unavailable (missing lib");
        StringAssert.Contains(output, "provider:  CPUExecutionProvider");
    }

    [TestMethod]
    public void Quickstart_CudaWithoutGpu_FailsNamingTheMissingLibrary()
    {
        using var temp = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("quickstart", "--artifacts", temp.Path, "--epochs", "1", "--ep", "cuda");

        if (exitCode == OnnxBridgeCli.Success) Assert.Inconclusive("CUDA loads here: the missing-library error cannot be observed");
        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode, output);
        StringAssert.StartsWith(error, "error: the CUDA execution provider cannot be used: missing lib");
    }

    [TestMethod]
    public void Quickstart_ZeroEpochs_IsRejected()
    {
        var (exitCode, _, error) = CliRunner.Run("quickstart", "--epochs", "0");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        StringAssert.StartsWith(error, "error: --epochs must be at least 1, got 0");
    }
}
