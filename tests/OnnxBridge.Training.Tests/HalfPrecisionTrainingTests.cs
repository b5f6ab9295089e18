using OnnxBridge.Core.Values;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Optimization;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Training.Tests;

/// <summary>
/// A network converted with <c>to(Float16)</c> or <c>to(BFloat16)</c> trains in TorchSharp on the
/// CPU (parameters, gradients and optimizer state in that type); the float16 one goes through the
/// whole job — export with float16 element types, parity under ONNX Runtime at float16's tolerance.
/// bfloat16 stops at training: ONNX Runtime's CPU provider has no bfloat16 Gemm to verify it with.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class HalfPrecisionTrainingTests
{
    [TestMethod]
    [DataRow(ScalarType.Float16)]
    [DataRow(ScalarType.BFloat16)]
    public void Fit_HalfPrecisionNetwork_LearnsAndStaysInItsType(ScalarType type)
    {
        var net = TrainingFixtures.Network(seed: 3).to(type);
        using var data = HalfData(TrainingFixtures.Data(256, seed: 5), type);
        using var trainer = new Trainer(net, Options(epochs: 12));

        var history = trainer.Fit(data);

        var (first, last) = (history.Epochs[0].TrainLoss, history.Epochs[^1].TrainLoss);
        Assert.IsTrue(double.IsFinite(last) && last < 0.6 * first, $"train loss {first:F4} → {last:F4}");
        Assert.IsTrue(history.Epochs[^1].TrainAccuracy >= 0.8, $"train accuracy {history.Epochs[^1].TrainAccuracy:P1}");
        foreach (var (key, tensor) in net.state_dict())
            Assert.AreEqual(key.EndsWith("num_batches_tracked", StringComparison.Ordinal) ? ScalarType.Int64 : type, tensor.dtype, key);
    }

    [TestMethod]
    public void TrainingJob_Float16Network_ExportsFloat16_AndPassesParityAtFloat16Tolerance()
    {
        using var folder = new TempFolder();
        var net = TrainingFixtures.Network(seed: 3).to(ScalarType.Float16);
        using var train = HalfData(TrainingFixtures.Data(256, seed: 5), ScalarType.Float16);
        using var validation = HalfData(TrainingFixtures.Data(64, seed: 6), ScalarType.Float16);
        using var test = HalfData(TrainingFixtures.Data(128, seed: 8), ScalarType.Float16);
        var input = new InputSpec("x", DataType.Float16, [Dim.Named("batch"), 8]);

        var result = TrainingJob.Run("half", net, input, train, validation, test, Options(epochs: 6), folder.Path);

        Assert.IsTrue(result.Parity.Passed, result.Parity.Format());
        Assert.AreEqual(Runtime.Parity.Tolerance.Float16, result.Parity.Tolerance, "the bundle's outputs are float16: float16's tolerance");
        // Classes whose two logits lie within float16's rounding of each other may be called either way.
        Assert.IsTrue(result.PredictionMismatches <= result.PredictionsCompared / 100, $"{result.PredictionMismatches} of {result.PredictionsCompared} predictions differ");
        var model = Onnx.OnnxFiles.ReadModel(result.ModelPath);
        Assert.AreEqual((int)DataType.Float16, model.Graph.Output[0].Type.TensorType.ElemType);
    }

    [TestMethod]
    public void Trainer_Float16WithAdamsDefaultEps_IsRefused_SayingWhyAndWhatToDo()
    {
        var net = TrainingFixtures.Network(seed: 3).to(ScalarType.Float16);

        var refused = Assert.ThrowsExactly<ArgumentException>(() => new Trainer(net, new TrainerOptions { Optimizer = OptimizerSpec.Adam() }));

        StringAssert.StartsWith(refused.Message, "Adam's eps 1E-08 is 0 in float16 (parameter '0.weight' is float16), so its update divides by zero: give eps ≥ 6e-8");
    }

    private static TrainerOptions Options(int epochs) => new()
    {
        Epochs = epochs,
        BatchSize = 32,
        Optimizer = OptimizerSpec.Adam(1e-2, eps: 1e-4), // float16 has no 1e-8 (see the test below)
        Seed = 11,
    };

    /// <summary>The data set with its features in <paramref name="type"/> (the targets are class indices); disposes <paramref name="data"/>.</summary>
    private static TensorDataset HalfData(TensorDataset data, ScalarType type)
    {
        using (data) return new TensorDataset(data.Features.to(type), data.Targets.clone());
    }
}
