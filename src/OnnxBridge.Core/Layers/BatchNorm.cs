using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// Batch normalization over dimension 1 of [batch, features] (BatchNorm1d) or [batch, channels,
/// height, width] (BatchNorm2d), with PyTorch's parameters, buffers and state-dict keys (weight,
/// bias, running_mean, running_var, num_batches_tracked). Training mode normalizes with the batch's
/// statistics and updates the running ones; eval mode and export use the running statistics.
/// </summary>
public sealed class BatchNorm : Block
{
    private readonly Tensor _runningMean;
    private readonly Tensor _runningVar;
    private readonly Tensor _numBatchesTracked;

    /// <summary>Creates the layer for inputs of rank <paramref name="inputRank"/> (2 or 4).</summary>
    public BatchNorm(long numFeatures, long inputRank = 4, double epsilon = 1e-5, double momentum = 0.1) : base(inputRank switch { 2 => "BatchNorm1d", 5 => "BatchNorm3d", _ => "BatchNorm2d" })
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        if (inputRank is not (2 or 4 or 5))
            throw new ArgumentOutOfRangeException(nameof(inputRank), inputRank, "BatchNorm normalizes [batch, features(, length)] (BatchNorm1d: rank 2), [batch, channels, height, width] (BatchNorm2d: rank 4) or [batch, channels, depth, height, width] (BatchNorm3d: rank 5) inputs");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive");
        if (!(momentum is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in (0, 1]");
        (NumFeatures, InputRank, Epsilon, Momentum) = (numFeatures, inputRank, epsilon, momentum);
        Weight = RegisterParameter("weight", ones(numFeatures));
        Bias = RegisterParameter("bias", zeros(numFeatures));
        _runningMean = RegisterBuffer("running_mean", zeros(numFeatures));
        _runningVar = RegisterBuffer("running_var", ones(numFeatures));
        _numBatchesTracked = RegisterBuffer("num_batches_tracked", tensor(0L));
    }

    /// <summary>The number of features or channels (dimension 1).</summary>
    public long NumFeatures { get; }

    /// <summary>The rank of the inputs: 2 (BatchNorm1d, which also takes [batch, features, length]), 4 (BatchNorm2d) or 5 (BatchNorm3d).</summary>
    public long InputRank { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>The weight of the current batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>The scale γ.</summary>
    public Parameter Weight { get; }

    /// <summary>The shift β.</summary>
    public Parameter Bias { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        var rankFits = input.Rank == InputRank || (InputRank == 2 && input.Rank == 3);
        if (!rankFits || input.Rank < 2 || (input.Shape[1].IsKnown && input.Shape[1].Size != NumFeatures))
        {
            var layout = InputRank switch { 2 => "batch, features(, length)", 4 => "batch, channels, height, width", _ => "batch, channels, depth, height, width" };
            var message = $"{GetName()} expects [{layout}] with {NumFeatures} at dimension 1, got {Dim.Format(input.Shape)}";
            throw Tracing.GraphRecorder.Current?.Error(message, "BatchNormalization") ?? (Exception)new ArgumentException(message, nameof(input));
        }
        if (input.IsSymbolic || !training)
            return Ops.BatchNormInference(input, Use(Weight), Use(Bias), Use(_runningMean), Use(_runningVar), Epsilon);
        using (no_grad()) _numBatchesTracked.add_(1);
        return Value.Eager(nn.functional.batch_norm(input.Tensor, _runningMean, _runningVar, Weight, Bias, training: true, momentum: Momentum, eps: Epsilon));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"{NumFeatures}, eps={PythonRepr.Float(Epsilon)}, momentum={PythonRepr.Float(Momentum)}, affine=True, track_running_stats=True");
}
