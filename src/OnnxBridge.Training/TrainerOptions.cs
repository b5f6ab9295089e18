using OnnxBridge.Training.Optimization;

namespace OnnxBridge.Training;

/// <summary>How a <see cref="Trainer"/> trains. Defaults: 10 epochs, batches of 32, Adam(1e-3), cross-entropy, seed 0.</summary>
public sealed record TrainerOptions
{
    /// <summary>The total number of epochs (a resumed run continues up to it).</summary>
    public int Epochs { get; init; } = 10;

    /// <summary>Rows per mini-batch.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>The optimizer and its hyper-parameters.</summary>
    public OptimizerSpec Optimizer { get; init; } = OptimizerSpec.Adam();

    /// <summary>The learning rate per epoch.</summary>
    public LearningRateSchedule Schedule { get; init; } = LearningRateSchedule.Constant;

    /// <summary>The loss (and with it the accuracy metric).</summary>
    public LossFunction Loss { get; init; } = LossFunction.CrossEntropy;

    /// <summary>Fixes batch order and dropout masks: the same seed on the same machine gives bit-identical runs.</summary>
    public int Seed { get; init; }

    /// <summary>Clips the global gradient norm to this value before each step (torch.nn.utils.clip_grad_norm_); null: no clipping.</summary>
    public double? GradientClipNorm { get; init; }

    /// <summary>Stops when the monitored validation metric stops improving; null: run every epoch.</summary>
    public EarlyStopping? EarlyStopping { get; init; }

    /// <summary>Where checkpoints go (<c>epoch-NNNN.ckpt</c>, <c>best.ckpt</c>); null: no checkpoints.</summary>
    public string? CheckpointDirectory { get; init; }

    /// <summary>Writes <c>epoch-NNNN.ckpt</c> every this many epochs (and after the last); 0: only <c>best.ckpt</c>.</summary>
    public int CheckpointEvery { get; init; } = 1;

    /// <summary>Checks the options, naming the first bad one.</summary>
    public void Validate()
    {
        if (Epochs < 1) throw new ArgumentOutOfRangeException(nameof(Epochs), Epochs, "train for at least one epoch");
        if (BatchSize < 1) throw new ArgumentOutOfRangeException(nameof(BatchSize), BatchSize, "the batch size must be positive");
        if (GradientClipNorm is { } clip && !(clip > 0)) throw new ArgumentOutOfRangeException(nameof(GradientClipNorm), clip, "the clipping norm must be positive");
        if (CheckpointEvery < 0) throw new ArgumentOutOfRangeException(nameof(CheckpointEvery), CheckpointEvery, "cannot be negative");
        ArgumentNullException.ThrowIfNull(Optimizer);
        ArgumentNullException.ThrowIfNull(Schedule);
        ArgumentNullException.ThrowIfNull(Loss);
        Optimizer.Validate();
        EarlyStopping?.Validate(Loss);
    }
}

/// <summary>
/// Stops training when <see cref="Monitor"/> (<c>val_loss</c>, lower is better, or
/// <c>val_accuracy</c>, higher is better) has not improved by more than <see cref="MinDelta"/> for
/// <see cref="Patience"/> epochs, and by default puts back the best epoch's weights (Keras's EarlyStopping).
/// </summary>
public sealed record EarlyStopping(int Patience, string Monitor = "val_loss", double MinDelta = 0, bool RestoreBestWeights = true)
{
    internal bool HigherIsBetter => Monitor == "val_accuracy";

    internal double? Read(History.EpochMetrics metrics) => HigherIsBetter ? metrics.ValidationAccuracy : metrics.ValidationLoss;

    internal bool Improves(double candidate, double best) => HigherIsBetter ? candidate > best + MinDelta : candidate < best - MinDelta;

    internal void Validate(LossFunction loss)
    {
        if (Patience < 1) throw new ArgumentOutOfRangeException(nameof(Patience), Patience, "patience must be at least one epoch");
        if (Monitor is not ("val_loss" or "val_accuracy")) throw new ArgumentException($"early stopping monitors val_loss or val_accuracy, not '{Monitor}'");
        if (HigherIsBetter && !loss.HasAccuracy) throw new ArgumentException($"early stopping on val_accuracy needs a loss with an accuracy; {loss.Name} has none");
        if (!(MinDelta >= 0)) throw new ArgumentOutOfRangeException(nameof(MinDelta), MinDelta, "cannot be negative");
    }
}
