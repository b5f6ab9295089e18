using OnnxBridge.Samples.Digits;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Training.Tests;

/// <summary>
/// The digits sample, end to end with its fixed seed: at least 97 % test accuracy, ONNX Runtime
/// agrees with TorchSharp on every test image within |Δ| ≤ 1e-5 + 1e-5·|ref| and predicts the same
/// classes. The exact count of correct images depends on the kernels libtorch picks for the CPU
/// (AVX-512 vs AVX2 machines differ by a row or two), so it is not asserted; bit-identical runs on
/// one machine are TrainerTests' business.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class DigitsTests
{
    [TestMethod]
    [DataRow("mlp")]
    [DataRow("cnn")]
    [DataRow("resnet")]
    [DataRow("imported")]   // a CNN PyTorch made and exported, imported and fine-tuned
    public void DigitsSample_FixedSeed_ReachesAccuracyWithParity(string network)
    {
        using var temp = new TempFolder();

        var result = DigitsExperiment.Run(network, temp.Path).Job;

        Assert.AreEqual(359L, result.PredictionsCompared);
        Assert.IsTrue(result.TestAccuracy >= 0.97, $"test accuracy {result.TestAccuracy:P2}");
        Assert.IsTrue(result.Parity.Passed, result.Parity.Format());
        ImportRoundTrip.AssertRoundTrips(BundleUnder(temp.Path));
        Assert.AreEqual(0L, result.PredictionMismatches, "ONNX Runtime predicted a different class");
        foreach (var file in new[] { result.ModelPath, result.WeightsPath, result.MetricsCsvPath, result.MetricsJsonPath }.Concat(result.PlotPaths))
            Assert.IsTrue(File.Exists(file), file);
        Assert.IsNotNull(Trainer.LatestCheckpoint(result.CheckpointDirectory));
    }

    [TestMethod]
    public void DenoisingAutoencoder_FixedSeed_HalvesTheNoise_WithParity()
    {
        using var temp = new TempFolder();

        var result = DigitsExperiment.Run("autoencoder", temp.Path);

        Assert.IsNull(result.Job.TestAccuracy, "a regression has no accuracy");
        Assert.IsTrue(result.Job.TestLoss <= 0.5 * result.NoisyInputMse, $"test MSE {result.Job.TestLoss:F4}, the noisy input's {result.NoisyInputMse:F4}");
        Assert.IsTrue(result.Job.Parity.Passed, result.Job.Parity.Format());
        ImportRoundTrip.AssertRoundTrips(BundleUnder(temp.Path));
    }

    /// <summary>The one parity bundle (model.onnx beside test_data_set_0) the experiment wrote under <paramref name="folder"/>.</summary>
    private static string BundleUnder(string folder) =>
        Directory.GetFiles(folder, "model.onnx", SearchOption.AllDirectories).Select(Path.GetDirectoryName).Single(d => Directory.Exists(Path.Combine(d!, "test_data_set_0")))!;
}
