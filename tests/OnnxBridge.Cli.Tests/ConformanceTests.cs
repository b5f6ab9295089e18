using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

/// <summary>
/// <c>onnxbridge conformance</c> on onnx's own PyTorch-exported cases (libonnx-testdata): the counts
/// docs/conformance.md records are guarded, every miss is one the docs explain, and the rebuilt
/// models pass onnx's full check.
/// </summary>
[TestClass]
public sealed class ConformanceTests
{
    [TestMethod]
    public void Conformance_OnnxsPyTorchCases_AreReproducedButTheLossAndTheSparseOne_AndTheRebuiltModelsPassOnnxsChecker()
    {
        Environments.Require(Directory.Exists(Environments.OnnxTestDataRoot), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");
        using var models = new TempFolder();

        var (exitCode, output, error) = CliRunner.Run("conformance", "--write-models", models.Path);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        StringAssert.Contains(output, "pytorch-converted: 80 of 82 reproduced (2 out of scope, see docs/conformance.md)");
        StringAssert.Contains(output, "pytorch-operator: 35 of 35 reproduced");
        var misses = output.Split('\n').Where(l => l.StartsWith("miss", StringComparison.Ordinal)).Select(l => l.Split(':')[0]).ToList();
        CollectionAssert.AreEquivalent(new[] { "miss  pytorch-converted/test_Embedding_sparse", "miss  pytorch-converted/test_PoissonNLLLLoss_no_reduce" }, misses);
        var docs = File.ReadAllText(RepoFiles.Path("docs", "conformance.md"));
        foreach (var miss in misses) StringAssert.Contains(docs, miss.Split('/')[1], "docs/conformance.md explains every miss");

        var written = Directory.GetFiles(models.Path, "*.onnx");
        Assert.AreEqual(115, written.Length, "one opset-17 model per reproduced case");
        OnnxChecker.AssertValid(written);
    }

    /// <summary>
    /// <c>conformance --import</c>: onnx's cases through <see cref="Core.Import.OnnxImporter"/>. The floors are
    /// docs/conformance.md's counts (697 and 570 of node's 932 when written) less a margin for cases
    /// near the tolerance whose result may differ with the machine's kernels; the PyTorch suites all pass.
    /// </summary>
    [TestMethod]
    public void ConformanceImport_NodeCasesAboveTheirFloors_PyTorchSuitesAll_AndEveryMissHasADocumentedReason()
    {
        Environments.Require(Directory.Exists(Environments.OnnxTestDataRoot), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");

        var (exitCode, output, error) = CliRunner.Run("conformance", "--import");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, output + error);
        var node = System.Text.RegularExpressions.Regex.Match(output, @"node: (\d+) of 932 import and match eagerly, (\d+) re-export and match");
        Assert.IsTrue(node.Success, output);
        var (eager, reexported) = (int.Parse(node.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture), int.Parse(node.Groups[2].Value, System.Globalization.CultureInfo.InvariantCulture));
        Assert.IsTrue(eager >= 670, $"{eager} of 932 node cases import and match eagerly; the floor is 670 (the issue's target is 70 %, 653)");
        Assert.IsTrue(reexported >= 550, $"{reexported} of 932 node cases re-export and match; the floor is 550");
        StringAssert.Contains(output, "pytorch-converted: 82 of 82 import and match eagerly, 82 re-export and match, 42 of 42 with parameters fine-tune as the rebuilt block does");
        StringAssert.Contains(output, "pytorch-operator: 35 of 35 import and match eagerly, 35 re-export and match, 4 of 4 with parameters fine-tune as the rebuilt block does");
        var docs = File.ReadAllText(RepoFiles.Path("docs", "conformance.md"));
        var reasons = output.Split('\n').Select(l => System.Text.RegularExpressions.Regex.Match(l, @"^\s+\d+\s+([a-z -]+?)(:|\s+values)")).Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct().ToList();
        Assert.IsTrue(reasons.Count > 0, output);
        foreach (var reason in reasons) StringAssert.Contains(docs, reason, $"docs/conformance.md explains the reason '{reason}'");
    }

    [TestMethod]
    public void Conformance_NoTestData_SaysWhereItLookedAndHowToGetIt()
    {
        using var temp = new TempFolder();
        var missing = Path.Combine(temp.Path, "absent");

        var (exitCode, _, error) = CliRunner.Run("conformance", "--data", missing);

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        StringAssert.Contains(error, $"onnx's test data is not at '{missing}' (on Debian: apt install libonnx-testdata, or pass --data DIR)");
    }

    [TestMethod]
    public void Conformance_ACaseThatDiffers_FailsWithTheCaseAndTheDifference()
    {
        Environments.Require(Directory.Exists(Environments.OnnxTestDataRoot), $"ONNX test data at {Environments.OnnxTestDataRoot} (apt package libonnx-testdata)");
        using var temp = new TempFolder();
        // A copy of the data where one case's recorded output is another case's: the rebuilt
        // LeakyReLU(0.5) cannot reproduce LeakyReLU(0.01)'s output.
        var converted = Path.Combine(temp.Path, "pytorch-converted");
        TempFolder.CopyTree(Path.Combine(Environments.OnnxTestDataRoot, "pytorch-converted"), converted);
        TempFolder.CopyTree(Path.Combine(Environments.OnnxTestDataRoot, "pytorch-operator"), Path.Combine(temp.Path, "pytorch-operator"));
        var output0 = Path.Combine("test_data_set_0", "output_0.pb");
        File.Copy(Path.Combine(converted, "test_LeakyReLU", output0), Path.Combine(converted, "test_LeakyReLU_with_negval", output0), overwrite: true);
        File.Copy(Path.Combine(converted, "test_LeakyReLU", "test_data_set_0", "input_0.pb"), Path.Combine(converted, "test_LeakyReLU_with_negval", "test_data_set_0", "input_0.pb"), overwrite: true);

        var (exitCode, output, _) = CliRunner.Run("conformance", "--data", temp.Path);

        Assert.AreEqual(OnnxBridgeCli.CheckFailed, exitCode, output);
        StringAssert.Contains(output, "FAIL  pytorch-converted/test_LeakyReLU_with_negval: eager, data set 0, output '1':");
        StringAssert.Contains(output, "pytorch-converted: 79 of 82 reproduced (2 out of scope, see docs/conformance.md)");
    }
}
