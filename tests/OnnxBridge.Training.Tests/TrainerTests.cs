using OnnxBridge.Core.Builder;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.History;
using OnnxBridge.Training.Optimization;
using OnnxBridge.Training.Progress;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Tests;

[TestClass]
[DoNotParallelize]
public sealed class TrainerTests
{
    private static TrainerOptions Options(int epochs = 6, int seed = 7) => new()
    {
        Epochs = epochs,
        BatchSize = 16,
        Optimizer = OptimizerSpec.Sgd(0.1, momentum: 0.9, weightDecay: 1e-4),
        Schedule = LearningRateSchedule.Cosine(epochs),
        GradientClipNorm = 1.0,
        Seed = seed,
    };

    [TestMethod]
    public void Fit_SameSeedTwice_GivesBitIdenticalWeightsAndMetrics()
    {
        using var train = TrainingFixtures.Data(200, 1);
        using var validation = TrainingFixtures.Data(60, 2);

        var (first, firstHistory) = Train(Options(), train, validation, initSeed: 3);
        var (second, secondHistory) = Train(Options(), train, validation, initSeed: 3);
        var (_, otherSeed) = Train(Options(seed: 8), train, validation, initSeed: 3);

        CollectionAssert.AreEqual(TrainingFixtures.Weights(first), TrainingFixtures.Weights(second), "weights differ between runs with one seed");
        CollectionAssert.AreEqual(firstHistory.Epochs.Select(e => e.TrainLoss).ToArray(), secondHistory.Epochs.Select(e => e.TrainLoss).ToArray());
        CollectionAssert.AreEqual(firstHistory.Epochs.Select(e => e.ValidationLoss).ToArray(), secondHistory.Epochs.Select(e => e.ValidationLoss).ToArray());
        CollectionAssert.AreNotEqual(firstHistory.Epochs.Select(e => e.TrainLoss).ToArray(), otherSeed.Epochs.Select(e => e.TrainLoss).ToArray(), "the seed should change batch order and dropout masks");
    }

    [TestMethod]
    [DataRow(OptimizerKind.Sgd)]
    [DataRow(OptimizerKind.Adam)]
    [DataRow(OptimizerKind.AdamW)]
    public void Resume_FromCheckpointAfterInterruption_EqualsUninterruptedRun(OptimizerKind kind)
    {
        using var temp = new TempFolder();
        using var train = TrainingFixtures.Data(200, 1);
        using var validation = TrainingFixtures.Data(60, 2);
        var options = Options() with { Optimizer = new OptimizerSpec(kind, kind == OptimizerKind.Sgd ? 0.1 : 0.01, Momentum: kind == OptimizerKind.Sgd ? 0.9 : 0), CheckpointEvery = 1 };
        var (uninterrupted, expected) = Train(options, train, validation, initSeed: 3);

        // The same run, interrupted after epoch 3 (as by Ctrl+C), with checkpoints.
        var interrupted = TrainingFixtures.Network(3);
        using var cancel = new CancellationTokenSource();
        using (var trainer = new Trainer(interrupted, options with { CheckpointDirectory = temp.Path }, new CancelAfter(3, cancel)))
        {
            Assert.ThrowsExactly<OperationCanceledException>(() => trainer.Fit(train, validation, cancel.Token));
        }
        var latest = Trainer.LatestCheckpoint(temp.Path);
        Assert.AreEqual(Trainer.EpochFileName(3), Path.GetFileName(latest));

        // A new process would start from scratch: a differently initialized model, a new optimizer.
        var resumed = TrainingFixtures.Network(99);
        using var resumedTrainer = new Trainer(resumed, options with { CheckpointDirectory = temp.Path });
        resumedTrainer.Resume(latest!);
        var history = resumedTrainer.Fit(train, validation);

        CollectionAssert.AreEqual(TrainingFixtures.Weights(uninterrupted), TrainingFixtures.Weights(resumed), "resumed weights differ from the uninterrupted run");
        CollectionAssert.AreEqual(expected.Epochs.Select(e => e.TrainLoss).ToArray(), history.Epochs.Select(e => e.TrainLoss).ToArray());
        CollectionAssert.AreEqual(expected.Epochs.Select(e => e.LearningRate).ToArray(), history.Epochs.Select(e => e.LearningRate).ToArray());
    }

    [TestMethod]
    public void Evaluate_DisablesDropoutAndBatchStatistics_AndRestoresTrainingMode()
    {
        using var data = TrainingFixtures.Data(100, 4);
        var net = TrainingFixtures.Network(5);
        using (var trainer = new Trainer(net, Options(epochs: 2))) trainer.Fit(data);
        net.train();

        var first = Trainer.Evaluate(net, data, LossFunction.CrossEntropy);
        var second = Trainer.Evaluate(net, data, LossFunction.CrossEntropy, batchSize: 7);

        Assert.IsTrue(net.training, "Evaluate put the model back in training mode");
        Assert.AreEqual(first.Loss, second.Loss, 1e-6, "eval mode is deterministic and independent of the batch size (no dropout, running statistics)");
        using var x = data.Features;
        using var inTraining = net.forward(x);
        using var inTrainingAgain = net.forward(x);
        Assert.IsFalse(inTraining.allclose(inTrainingAgain), "training mode really drops units (the test would be vacuous otherwise)");
    }

    [TestMethod]
    public void Fit_WithCheckpointsAndBestWeights_LiveTensorCountStaysFlat()
    {
        using var temp = new TempFolder();
        using var train = TrainingFixtures.Data(300, 1);
        using var validation = TrainingFixtures.Data(60, 2);
        var options = Options(epochs: 8) with { CheckpointDirectory = temp.Path, CheckpointEvery = 1, EarlyStopping = new EarlyStopping(Patience: 100) };

        var (_, history) = Train(options, train, validation, initSeed: 3);

        var live = history.Epochs.Select(e => e.LiveTensors).ToArray();
        Assert.IsTrue(live.Skip(1).All(n => n == live[1]), $"live tensors per epoch: {string.Join(", ", live)}");
    }

    [TestMethod]
    public void Fit_EarlyStopping_StopsAfterPatienceAndRestoresBestEpoch()
    {
        using var train = TrainingFixtures.Data(64, 1);
        using var validation = TrainingFixtures.Data(64, 9);
        // A large constant rate overfits a tiny set quickly, so validation loss turns up.
        var options = new TrainerOptions
        {
            Epochs = 60,
            BatchSize = 8,
            Optimizer = OptimizerSpec.Adam(0.05),
            EarlyStopping = new EarlyStopping(Patience: 3),
            Seed = 1,
        };

        var net = TrainingFixtures.Network(2);
        using var trainer = new Trainer(net, options);
        var history = trainer.Fit(train, validation);

        Assert.IsTrue(history.Epochs.Count < 60, "should stop early");
        StringAssert.StartsWith(history.StopReason, $"early stopping after epoch {history.Epochs.Count}: val_loss has not improved for 3 epochs");
        var best = history.Epochs.MinBy(e => e.ValidationLoss)!;
        Assert.AreEqual(history.Epochs.Count - 3, best.Epoch);
        Assert.AreEqual(best.Epoch, history.RestoredEpoch);
        Assert.AreEqual(best.ValidationLoss!.Value, trainer.Evaluate(validation).Loss, 1e-6, "the model holds the best epoch's weights");
    }

    [TestMethod]
    public void Fit_GradientClipping_BoundsTheUpdate()
    {
        using var data = TrainingFixtures.Data(16, 1);
        var options = new TrainerOptions { Epochs = 1, BatchSize = 16, Optimizer = OptimizerSpec.Sgd(1.0), GradientClipNorm = 1e-3, Seed = 0 };
        var net = TrainingFixtures.Network(2);
        var before = TrainingFixtures.Weights(net);

        using (var trainer = new Trainer(net, options)) trainer.Fit(data);

        // One SGD step with lr 1 moves the parameters by exactly the clipped gradient: norm ≤ 1e-3 (buffers move too; compare parameters only).
        var after = TrainingFixtures.Weights(net);
        var parameterMask = net.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32)
            .SelectMany(kv => Enumerable.Repeat(net.named_parameters().Any(p => p.name == kv.Key), (int)kv.Value.numel())).ToArray();
        var squared = before.Zip(after, parameterMask).Where(t => t.Third).Sum(t => Math.Pow(t.Second - t.First, 2));
        Assert.IsTrue(Math.Sqrt(squared) <= 1e-3 * 1.0001, $"update norm {Math.Sqrt(squared)}");
        Assert.IsTrue(Math.Sqrt(squared) > 1e-4, "the step should not vanish");
    }

    [TestMethod]
    public void Fit_EmptyValidationSplit_RecordsNoValidationMetrics()
    {
        using var data = TrainingFixtures.Data(40, 1);
        var (train, validation, _) = data.Split(0, 0, seed: 1);

        var (_, history) = Train(Options(epochs: 2), train, validation, initSeed: 3);

        Assert.AreEqual(0L, validation.Count);
        Assert.IsTrue(history.Epochs.All(e => e.ValidationLoss is null && e.ValidationAccuracy is null));
        Assert.IsTrue(history.Epochs.All(e => double.IsFinite(e.TrainLoss)));
    }

    [TestMethod]
    public void Trainer_UnbuiltModel_IsRefusedWithTheBlockPath()
    {
        var net = Net.Sequential().Linear(4).ReLU().Linear(2).Build();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new Trainer(net, new TrainerOptions()));

        StringAssert.StartsWith(error.Message, "block '0' has deferred parameters");
    }

    private static (Core.Blocks.Sequential Net, TrainingHistory History) Train(TrainerOptions options, TensorDataset train, TensorDataset? validation, int initSeed)
    {
        var net = TrainingFixtures.Network(initSeed);
        using var trainer = new Trainer(net, options);
        return (net, trainer.Fit(train, validation));
    }

    /// <summary>Requests cancellation once epoch <paramref name="epoch"/> has finished.</summary>
    private sealed class CancelAfter(int epoch, CancellationTokenSource source) : ITrainingObserver
    {
        public void OnStart(int firstEpoch, int epochs, int batchesPerEpoch) { }

        public void OnBatch(int epoch, int batch, int batches, double meanLoss, double? accuracy) { }

        public void OnEpoch(EpochMetrics metrics, int epochs)
        {
            if (metrics.Epoch == epoch) source.Cancel();
        }

        public void OnMessage(string message) { }
    }
}
