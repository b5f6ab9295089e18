using OnnxBridge.Samples.Digits;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Training.Tests;

/// <summary>
/// The digits sample, end to end with its fixed seed: the accuracies the README reports are
/// reproduced exactly (same machine, same libtorch), and ONNX Runtime agrees with TorchSharp on every
/// test image within |Δ| ≤ 1e-5 + 1e-5·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class DigitsTests
{
    [TestMethod]
    [DataRow("mlp", 352)]
    [DataRow("cnn", 355)]
    public void DigitsSample_FixedSeed_ReproducesReportedAccuracyAndParity(string network, int expectedCorrect)
    {
        using var temp = new TempFolder();

        var result = DigitsExperiment.Run(network, temp.Path);

        Assert.AreEqual(359L, result.PredictionsCompared);
        var correct = (int)Math.Round(result.TestAccuracy!.Value * result.PredictionsCompared);
        Assert.IsTrue(result.TestAccuracy >= 0.97, $"test accuracy {result.TestAccuracy:P2}");
        Assert.AreEqual(expectedCorrect, correct, $"test accuracy {result.TestAccuracy:P2} differs from the README's");
        Assert.IsTrue(result.Parity.Passed, result.Parity.Format());
        Assert.AreEqual(0L, result.PredictionMismatches, "ONNX Runtime predicted a different class");
        foreach (var file in new[] { result.ModelPath, result.WeightsPath, result.MetricsCsvPath, result.MetricsJsonPath }.Concat(result.PlotPaths))
            Assert.IsTrue(File.Exists(file), file);
        Assert.IsNotNull(Trainer.LatestCheckpoint(result.CheckpointDirectory));
    }
}
