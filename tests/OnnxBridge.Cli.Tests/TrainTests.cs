using System.Globalization;
using System.Text;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Cli.Tests;

[TestClass]
[DoNotParallelize]
public sealed class TrainTests
{
    /// <summary>A 3-class CSV with a header: class = which of three feature sums is largest.</summary>
    internal static string WriteCsv(TempFolder temp, int rows = 240)
    {
        var random = new Random(3);
        var text = new StringBuilder("f0,f1,f2,f3,label\n");
        for (int r = 0; r < rows; r++)
        {
            var f = Enumerable.Range(0, 4).Select(_ => random.NextDouble() * 10).ToArray();
            var scores = new[] { f[0] + f[1], f[2] + f[3], f[1] + f[2] + 1 };
            text.Append(string.Join(',', f.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)))).Append(',').Append(Array.IndexOf(scores, scores.Max())).Append('\n');
        }
        var path = temp.File("data.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [TestMethod]
    public void Train_PresetMlp_WritesEveryArtifactAndPassesParity()
    {
        using var temp = new TempFolder();
        var data = WriteCsv(temp);
        var output = temp.File("run");

        var (exitCode, text, error) = CliRunner.Run("train", "--data", data, "--preset", "mlp", "--epochs", "4", "--checkpoint-every", "2", "--out", output);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        StringAssert.Contains(text, "data " + data + ": 240 rows, 4 features; split 168/24/48 (train/validation/test, seed 0)");
        StringAssert.Contains(text, "overall: PASS");
        StringAssert.Contains(text, "predicted classes identical: 48/48");
        foreach (var file in new[] { "model.onnx", "model.safetensors", "architecture.json", "metrics.csv", "metrics.json", "loss.png", "loss.svg",
                     "accuracy.png", "accuracy.svg", "bundle/model.onnx", "checkpoints/epoch-0002.ckpt", "checkpoints/epoch-0004.ckpt", "checkpoints/best.ckpt" })
            Assert.IsTrue(File.Exists(Path.Combine(output, file)), file);
        Assert.AreEqual(5, File.ReadAllLines(Path.Combine(output, "metrics.csv")).Length, "header and four epochs");
        Assert.IsFalse(text.Any(c => char.IsControl(c) && c is not '\n'), "plain output when not a terminal");
        ArchitectureJson.FromJson(File.ReadAllText(Path.Combine(output, "architecture.json")));
        Assert.AreEqual(OnnxBridgeCli.Success, CliRunner.Run("verify", Path.Combine(output, "bundle"), "--brief").ExitCode);
    }

    [TestMethod]
    public void Train_RegressionWithMse_ReportsLossWithoutClassesAndPassesParity()
    {
        using var temp = new TempFolder();
        var data = WriteCsv(temp);
        var output = temp.File("regression");

        // Column 0 as the real-valued target, the other four (label included) as features.
        var (exitCode, text, error) = CliRunner.Run("train", "--data", data, "--preset", "mlp", "--loss", "mse", "--target-column", "0", "--epochs", "3", "--out", output);

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        StringAssert.Contains(text, "overall: PASS");
        Assert.IsFalse(text.Contains("accuracy", StringComparison.Ordinal) || text.Contains("predicted classes", StringComparison.Ordinal), text);
        Assert.IsTrue(File.Exists(Path.Combine(output, "loss.png")));
        Assert.IsFalse(File.Exists(Path.Combine(output, "accuracy.png")), "no accuracy curve for a regression");
    }

    [TestMethod]
    public void Train_Resume_ContinuesFromTheNewestCheckpoint()
    {
        using var temp = new TempFolder();
        var data = WriteCsv(temp);
        var output = temp.File("run");
        Assert.AreEqual(OnnxBridgeCli.Success, CliRunner.Run("train", "--data", data, "--preset", "mlp", "--epochs", "2", "--schedule", "constant", "--out", output, "--checkpoint-every", "1").ExitCode);

        var (exitCode, text, error) = CliRunner.Run("train", "--data", data, "--preset", "mlp", "--epochs", "4", "--schedule", "constant", "--out", output, "--checkpoint-every", "1", "--resume");

        Assert.AreEqual(OnnxBridgeCli.Success, exitCode, text + error);
        StringAssert.Contains(text, "resumed from " + Path.Combine(output, "checkpoints", "epoch-0002.ckpt"));
        StringAssert.Contains(text, "resuming at epoch 3/4");
        Assert.IsFalse(text.Contains("epoch 1/4", StringComparison.Ordinal), text);
        Assert.AreEqual(5, File.ReadAllLines(Path.Combine(output, "metrics.csv")).Length, "the history continues the first run's");
    }

    [TestMethod]
    [DataRow(new[] { "--preset", "mlp", "--optimizer", "rmsprop" }, "error: unknown optimizer 'rmsprop': use sgd, adam or adamw")]
    [DataRow(new[] { "--preset", "cnn" }, "error: the cnn preset needs square images of at least 4x4 pixels, but rows have 4 features")]
    [DataRow(new[] { "--preset", "mlp", "--schedule", "step:x" }, "error: unknown schedule 'step:x'")]
    [DataRow(new string[0], "error: give exactly one of --model (an architecture file), --preset (mlp or cnn) and --onnx (an ONNX model to fine-tune)")]
    public void Train_BadArguments_ExitTwoWithAMessage(string[] extra, string expected)
    {
        using var temp = new TempFolder();
        var data = WriteCsv(temp, rows: 40);

        var (exitCode, _, error) = CliRunner.Run(["train", "--data", data, "--out", temp.File("run"), .. extra]);

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        StringAssert.StartsWith(error, expected);
    }

    [TestMethod]
    public void Train_MissingCsv_NamesThePath()
    {
        using var temp = new TempFolder();

        var (exitCode, _, error) = CliRunner.Run("train", "--data", temp.File("nope.csv"), "--preset", "mlp");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        Assert.AreEqual($"error: CSV file not found: {temp.File("nope.csv")}", error.Trim());
    }
}

[TestClass]
[DoNotParallelize]
public sealed class ServeTests
{
    [TestMethod]
    public void Serve_MissingRepository_ExitsTwoNamingIt()
    {
        using var temp = new TempFolder();

        var (exitCode, _, error) = CliRunner.Run("serve", "--repository", temp.File("nowhere"), "--port", "0");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        Assert.AreEqual($"error: model repository '{temp.File("nowhere")}' does not exist", error.Trim());
    }

    [TestMethod]
    public void Serve_BadBatchingSwitch_ExitsTwo()
    {
        using var temp = new TempFolder();

        var (exitCode, _, error) = CliRunner.Run("serve", "--repository", temp.Path, "--dynamic-batching", "maybe");

        Assert.AreEqual(OnnxBridgeCli.BadInput, exitCode);
        Assert.AreEqual("error: --dynamic-batching 'maybe' is not on or off", error.Trim());
    }
}
