using OnnxBridge.Training.Optimization;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Tests;

[TestClass]
public sealed class ScheduleAndLossTests
{
    [TestMethod]
    public void Schedules_MatchPyTorchClosedForms()
    {
        var step = LearningRateSchedule.Step(stepSize: 3, gamma: 0.5);
        var cosine = LearningRateSchedule.Cosine(epochs: 10, minimum: 0.001);

        CollectionAssert.AreEqual(new[] { 0.1, 0.1, 0.1, 0.05, 0.05, 0.05, 0.025 }, Enumerable.Range(0, 7).Select(e => step.RateAt(e, 0.1)).ToArray());
        Assert.AreEqual(0.1, cosine.RateAt(0, 0.1), 1e-15);
        Assert.AreEqual(0.001 + (0.1 - 0.001) * (1 + Math.Cos(Math.PI * 4 / 10)) / 2, cosine.RateAt(4, 0.1), 1e-15);
        Assert.AreEqual(0.001, cosine.RateAt(10, 0.1), 1e-15);
        Assert.AreEqual(0.1, LearningRateSchedule.Constant.RateAt(50, 0.1));
    }

    [TestMethod]
    public void Losses_AgreeWithTheirDefinitions()
    {
        var logits = tensor(new float[] { 2, 0, -1, 0, 1, 3 }, [2, 3]);
        var classes = tensor(new long[] { 0, 1 });
        var expectedCe = (-(logits.log_softmax(1).gather(1, classes.unsqueeze(1))).mean()).item<float>();

        Assert.AreEqual(expectedCe, LossFunction.CrossEntropy.Compute(logits, classes).item<float>(), 1e-6);
        Assert.AreEqual(1L, LossFunction.CrossEntropy.CountCorrect(logits, classes).item<long>());
        var predictions = tensor(new float[] { 1, 2 }, [2, 1]);
        var targets = tensor(new float[] { 0, 4 }, [2, 1]);
        Assert.AreEqual(2.5f, LossFunction.MeanSquaredError.Compute(predictions, targets).item<float>(), 1e-6);
        Assert.IsFalse(LossFunction.MeanSquaredError.HasAccuracy);
        var binary = tensor(new float[] { 0, 1 }, [2, 1]);
        var expectedBce = (-(binary * predictions.sigmoid().log() + (1 - binary) * (1 - predictions.sigmoid()).log()).mean()).item<float>();
        Assert.AreEqual(expectedBce, LossFunction.BinaryCrossEntropyWithLogits.Compute(predictions, binary).item<float>(), 1e-6);
        Assert.AreEqual(1L, LossFunction.BinaryCrossEntropyWithLogits.CountCorrect(predictions, binary).item<long>());
    }

    [TestMethod]
    public void Options_BadValues_AreRefusedByName()
    {
        Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => new TrainerOptions { Epochs = 0 }.Validate());
        var nesterov = Assert.ThrowsExactly<ArgumentException>(() => OptimizerSpec.Sgd(0.1, nesterov: true).Validate());
        Assert.AreEqual("Nesterov momentum needs SGD with momentum > 0", nesterov.Message);
        var monitor = Assert.ThrowsExactly<ArgumentException>(() => new TrainerOptions { Loss = LossFunction.MeanSquaredError, EarlyStopping = new EarlyStopping(2, "val_accuracy") }.Validate());
        Assert.AreEqual("early stopping on val_accuracy needs a loss with an accuracy; mse has none", monitor.Message);
    }
}
