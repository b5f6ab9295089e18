using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Training.Checkpoints;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.History;
using OnnxBridge.Training.Progress;
using TorchSharp;
using static TorchSharp.torch;

using OnnxBridge.Training.Optimization;

namespace OnnxBridge.Training;

/// <summary>
/// Trains a block in TorchSharp (Keras's fit, written as the PyTorch loop it replaces): per epoch it
/// sets the scheduled learning rate, seeds the generators, runs shuffled mini-batches in training
/// mode — each step inside its own dispose scope — evaluates in eval mode, records the metrics,
/// writes checkpoints and applies early stopping. Owns its optimizer; the caller owns the model.
/// </summary>
public sealed class Trainer : IDisposable
{
    private readonly ITrainingObserver? _observer;
    private IReadOnlyList<(string Key, HostTensor Tensor)>? _bestState;

    /// <summary>Prepares to train <paramref name="model"/>; its parameters must be materialized (Build it first).</summary>
    public Trainer(Block model, TrainerOptions options, ITrainingObserver? observer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (model.UnbuiltBlockPaths().FirstOrDefault() is { } unbuilt)
            throw new InvalidOperationException($"block '{(unbuilt.Length == 0 ? "<root>" : unbuilt)}' has deferred parameters; Build the model (or run one forward) before training, so the optimizer sees every parameter");
        // Adam divides by sqrt(v) + eps; an eps float16 rounds to 0 makes every untouched weight 0/0 = NaN.
        if (options.Optimizer.Kind is not OptimizerKind.Sgd && (double)(Half)options.Optimizer.Epsilon == 0
            && model.named_parameters().FirstOrDefault(p => p.parameter.dtype == ScalarType.Float16) is { name: { } halfParameter })
            throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                $"{options.Optimizer.Kind}'s eps {options.Optimizer.Epsilon} is 0 in float16 (parameter '{halfParameter}' is float16), so its update divides by zero: give eps ≥ 6e-8 (e.g. OptimizerSpec.{options.Optimizer.Kind}(eps: 1e-4)), use SGD, or train in bfloat16 or float32"), nameof(options));
        Model = model;
        Options = options;
        _observer = observer;
        Optimizer = options.Optimizer.Create(model.parameters());
    }

    /// <summary>The model being trained.</summary>
    public Block Model { get; }

    /// <summary>The options it was made with.</summary>
    public TrainerOptions Options { get; }

    /// <summary>The optimizer made from <see cref="TrainerOptions.Optimizer"/>.</summary>
    public optim.Optimizer Optimizer { get; }

    /// <summary>The metrics of every epoch so far, including those before a resume.</summary>
    public TrainingHistory History { get; private set; } = new();

    /// <summary>
    /// Continues from a checkpoint: restores the model, the optimizer state and the history, and
    /// the next <see cref="Fit"/> starts after the checkpoint's epoch, giving the result an
    /// uninterrupted run would have given.
    /// </summary>
    public void Resume(string checkpointPath)
    {
        var (_, history) = Checkpoint.Load(checkpointPath, Model, Optimizer);
        History = history;
        var best = Options.CheckpointDirectory is { } dir ? Path.Combine(dir, BestFileName) : null;
        if (best is not null && File.Exists(best))
            _bestState = [.. Safetensors.Read(best).Tensors.Where(t => t.Name.StartsWith("model.", StringComparison.Ordinal)).Select(t => (t.Name[6..], t.Tensor))];
    }

    /// <summary>The file name of the best-epoch checkpoint in <see cref="TrainerOptions.CheckpointDirectory"/>.</summary>
    public const string BestFileName = "best.ckpt";

    /// <summary>The file name of the periodic checkpoint after <paramref name="epoch"/>.</summary>
    public static string EpochFileName(int epoch) => string.Create(CultureInfo.InvariantCulture, $"epoch-{epoch:D4}.ckpt");

    /// <summary>The newest periodic checkpoint in <paramref name="directory"/>, or null.</summary>
    public static string? LatestCheckpoint(string directory) =>
        Directory.Exists(directory) ? Directory.GetFiles(directory, "epoch-*.ckpt").Order(StringComparer.Ordinal).LastOrDefault() : null;

    /// <summary>Trains until <see cref="TrainerOptions.Epochs"/> or early stopping; returns the history.</summary>
    public TrainingHistory Fit(TensorDataset train, TensorDataset? validation = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("the training set is empty", nameof(train));
        if (validation is { Count: 0 }) validation = null; // an empty split (e.g. --validation 0) means no validation, not NaN metrics
        if (Options.EarlyStopping is not null && validation is null)
            throw new ArgumentException("early stopping monitors a validation metric: pass validation data", nameof(validation));
        if (Options.CheckpointDirectory is { } directory) Directory.CreateDirectory(directory);

        var batches = Batches.CountFor(train, Options.BatchSize);
        _observer?.OnStart(History.Epochs.Count + 1, Options.Epochs, batches);
        for (int epoch = History.Epochs.Count + 1; epoch <= Options.Epochs; epoch++)
        {
            cancellation.ThrowIfCancellationRequested();
            var metrics = RunEpoch(epoch, train, validation, batches, cancellation);
            History.Add(metrics);
            _observer?.OnEpoch(metrics, Options.Epochs);
            var improved = TrackBest(metrics);
            WriteCheckpoints(epoch, improved);
            if (ShouldStop() is { } reason)
            {
                History.StopReason = reason;
                _observer?.OnMessage(reason);
                break;
            }
        }
        RestoreBest();
        return History;
    }

    /// <summary>Mean loss and accuracy (null without one) over <paramref name="data"/>, in eval mode, without gradients.</summary>
    public (double Loss, double? Accuracy) Evaluate(TensorDataset data) => Evaluate(Model, data, Options.Loss, Options.BatchSize);

    /// <summary>Mean loss and accuracy of <paramref name="model"/> on <paramref name="data"/>, in eval mode (the mode is restored after).</summary>
    public static (double Loss, double? Accuracy) Evaluate(Block model, TensorDataset data, Optimization.LossFunction loss, int batchSize = 256)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(loss);
        var wasTraining = model.training;
        model.eval();
        try
        {
            double lossSum = 0, correct = 0;
            foreach (var (x, y) in Batches.Of(data, batchSize, shuffle: false))
            {
                using var scope = NewDisposeScope();
                scope.Attach([x, y]); // made by the batch iterator, before this scope existed
                using var noGrad = no_grad();
                var output = model.forward(x);
                lossSum += AsDouble(loss.Compute(output, y)) * x.shape[0];
                if (loss.HasAccuracy) correct += loss.CountCorrect(output, y).item<long>();
            }
            return (lossSum / data.Count, loss.HasAccuracy ? correct / data.Count : null);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <inheritdoc/>
    public void Dispose() => Optimizer.Dispose();

    /// <summary>A scalar loss as a double, whatever the network's floating-point type (float16 and bfloat16 included).</summary>
    private static double AsDouble(Tensor scalar) => scalar.to(ScalarType.Float64).item<double>();

    private EpochMetrics RunEpoch(int epoch, TensorDataset train, TensorDataset? validation, int batches, CancellationToken cancellation)
    {
        var clock = Stopwatch.StartNew();
        var rate = Options.Schedule.RateAt(epoch - 1, Options.Optimizer.LearningRate);
        foreach (var group in Optimizer.ParamGroups) group.LearningRate = rate;
        // Seeded per epoch, not once: a run resumed at epoch N draws the dropout masks an uninterrupted run would.
        random.manual_seed(unchecked(Options.Seed * 1_000_003L + epoch));

        Model.train();
        double lossSum = 0, correct = 0;
        long seen = 0;
        int batch = 0;
        foreach (var (x, y) in Batches.Of(train, Options.BatchSize, shuffle: true, Options.Seed, epoch))
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            scope.Attach([x, y]); // made by the batch iterator, before this scope existed
            Optimizer.zero_grad();
            var output = Model.forward(x);
            var loss = Options.Loss.Compute(output, y);
            loss.backward();
            if (Options.GradientClipNorm is { } clip) nn.utils.clip_grad_norm_(Model.parameters(), clip);
            Optimizer.step();

            var rows = x.shape[0];
            lossSum += AsDouble(loss) * rows;
            if (Options.Loss.HasAccuracy)
            {
                using var noGrad = no_grad();
                correct += Options.Loss.CountCorrect(output, y).item<long>();
            }
            seen += rows;
            _observer?.OnBatch(epoch, ++batch, batches, lossSum / seen, Options.Loss.HasAccuracy ? correct / seen : null);
        }

        var (validationLoss, validationAccuracy) = validation is null ? (null, null) : ((double?, double?))Evaluate(validation);
        using var process = Process.GetCurrentProcess();
        return new EpochMetrics(epoch, rate, lossSum / seen, Options.Loss.HasAccuracy ? correct / seen : null, validationLoss, validationAccuracy,
            clock.Elapsed.TotalSeconds, DisposeScopeManager.Statistics.ThreadTotalLiveCount, process.WorkingSet64 / (1024.0 * 1024.0));
    }

    /// <summary>Whether this epoch is the best so far by the monitored metric (val_loss without early stopping); keeps its weights if so.</summary>
    private bool TrackBest(EpochMetrics metrics)
    {
        var stopping = Options.EarlyStopping ?? new EarlyStopping(1);
        if (stopping.Read(metrics) is not { } value) return false;
        var previous = History.Epochs.Take(History.Epochs.Count - 1).Select(stopping.Read).OfType<double>().ToList();
        var best = previous.Count == 0 ? (double?)null : stopping.HigherIsBetter ? previous.Max() : previous.Min();
        if (best is { } b && !stopping.Improves(value, b)) return false;
        if (Options.EarlyStopping is { RestoreBestWeights: true }) _bestState = StateDicts.Capture(Model);
        return true;
    }

    private void WriteCheckpoints(int epoch, bool improved)
    {
        if (Options.CheckpointDirectory is not { } directory) return;
        var description = $"{Options.Optimizer}, {Options.Loss}, seed {Options.Seed}";
        if (Options.CheckpointEvery > 0 && (epoch % Options.CheckpointEvery == 0 || epoch == Options.Epochs))
        {
            var path = Path.Combine(directory, EpochFileName(epoch));
            Checkpoint.Save(path, Model, Optimizer, epoch, History, description);
            _observer?.OnMessage($"checkpoint: {path}");
        }
        if (improved)
        {
            var path = Path.Combine(directory, BestFileName);
            Checkpoint.Save(path, Model, Optimizer, epoch, History, description);
        }
    }

    private string? ShouldStop()
    {
        if (Options.EarlyStopping is not { } stopping) return null;
        var values = History.Epochs.Select(stopping.Read).ToList();
        var bestIndex = BestEpochIndex(stopping, values);
        var since = values.Count - 1 - bestIndex;
        return since >= stopping.Patience
            ? string.Create(CultureInfo.InvariantCulture, $"early stopping after epoch {values.Count}: {stopping.Monitor} has not improved for {since} epochs (best {values[bestIndex]:G4} at epoch {bestIndex + 1})")
            : null;
    }

    private void RestoreBest()
    {
        if (Options.EarlyStopping is not { RestoreBestWeights: true } stopping || _bestState is null || History.Epochs.Count == 0) return;
        var bestEpoch = BestEpochIndex(stopping, [.. History.Epochs.Select(stopping.Read)]) + 1;
        if (bestEpoch == History.Epochs.Count) return;
        StateDicts.Load(Model, _bestState, "the best epoch's weights");
        History.RestoredEpoch = bestEpoch;
        _observer?.OnMessage($"restored the weights of epoch {bestEpoch}, the best by {stopping.Monitor}");
    }

    /// <summary>The first epoch that no later one improves on (Keras's rule with min_delta).</summary>
    private static int BestEpochIndex(EarlyStopping stopping, IReadOnlyList<double?> values)
    {
        int best = -1;
        for (int i = 0; i < values.Count; i++)
        {
            if (values[i] is not { } v) continue;
            if (best < 0 || stopping.Improves(v, values[best]!.Value)) best = i;
        }
        return Math.Max(best, 0);
    }
}
