using System.Globalization;
using System.Text.RegularExpressions;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

/// <summary>
/// <c>onnxbridge import</c>, <c>train --onnx</c> and <c>export --onnx</c> on a CNN exported by real
/// PyTorch (Debian's python3-torch 1.13): imported, fine-tuned on the digits, exported again with a
/// passing parity bundle (fp32, 1e-5 + 1e-5·|ref|).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ImportCommandTests
{
    private const string ExportCnn = """
        import sys, torch
        torch.manual_seed(0)
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10))
        cnn(torch.rand(64, 1, 8, 8) * 16)   # running statistics for digit-like pixels (0..16)
        cnn.eval()
        torch.onnx.export(cnn, torch.rand(2, 1, 8, 8), sys.argv[1], input_names=["pixels"], output_names=["logits"],
                          dynamic_axes={"pixels": {0: "batch"}, "logits": {0: "batch"}}, opset_version=13, training=torch.onnx.TrainingMode.PRESERVE)
        """;

    [TestMethod]
    public void ImportTrainExport_PyTorchCnn_FineTunesOnTheDigits_AndExportsWithParity()
    {
        using var temp = new TempFolder();
        PythonTorch.Run(ExportCnn, temp.File("cnn.onnx"));

        var (exitCode, text, error) = CliRunner.Run("import", temp.File("cnn.onnx"), "--out", temp.File("imported"));
        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        StringAssert.Contains(text, "inputs:  pixels:float32[batch,1,8,8]");
        StringAssert.Contains(text, "parameter 0.weight [8, 1, 3, 3]");
        StringAssert.Contains(text, "buffer    1.running_mean [8]");
        StringAssert.Contains(text, "a plain chain of layers, the same keys as a Sequential:");
        StringAssert.Contains(text, "(5): Linear(in_features=128, out_features=10, bias=True)");

        (exitCode, text, error) = CliRunner.Run("train", "--onnx", temp.File("imported/model.onnx"), "--weights", temp.File("imported/weights.safetensors"),
            "--data", RepoFiles.Path("samples", "data", "digits.csv.gz"), "--epochs", "4", "--out", temp.File("tuned"));
        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        var accuracy = double.Parse(Regex.Match(text, @"test accuracy ([\d.]+) %").Groups[1].Value, CultureInfo.InvariantCulture);
        Assert.IsTrue(accuracy >= 90, $"test accuracy {accuracy} % after fine-tuning 4 epochs");
        StringAssert.Contains(text, "predicted classes identical: 359/359");

        (exitCode, text, error) = CliRunner.Run("export", "--onnx", temp.File("imported/model.onnx"), "--weights", temp.File("tuned/model.safetensors"),
            "--out", temp.File("again.onnx"), "--verify");
        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        OnnxChecker.AssertValid(temp.File("again.onnx"));
    }

    [TestMethod]
    public void Import_UnsupportedOps_ExitsWithBadInputListingThem()
    {
        using var temp = new TempFolder();
        var model = Path.Combine(Environments.OnnxTestDataRoot, "node", "test_nonzero_example", "model.onnx");
        Environments.Require(File.Exists(model), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");

        var (exitCode, text, error) = CliRunner.Run("import", model, "--out", temp.File("out"));

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode, text + error);
        StringAssert.Contains(error, "NonZero (ai.onnx, opset 13) in 'NonZero → result'");
        Assert.IsFalse(Directory.Exists(temp.File("out")) && Directory.EnumerateFileSystemEntries(temp.File("out")).Any(), "nothing is written for a model that cannot be imported");
    }
}
