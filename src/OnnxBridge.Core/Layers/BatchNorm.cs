using System.Globalization;
using OnnxBridge.Core.Architecture;
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
/// A null <c>numFeatures</c> is PyTorch's LazyBatchNorm: the size comes from dimension 1 of the
/// first input, from <see cref="Block.Build(InputSpec)"/> or from a state dict being loaded.
/// </summary>
public sealed class BatchNorm : Block
{
    private Tensor? _runningMean;
    private Tensor? _runningVar;
    private readonly Tensor _numBatchesTracked;

    /// <summary>Creates the layer for inputs of rank <paramref name="inputRank"/> (2 or 4); a null <paramref name="numFeatures"/> defers it (LazyBatchNorm1d/2d/3d).</summary>
    public BatchNorm(long? numFeatures, long inputRank = 4, double epsilon = 1e-5, double momentum = 0.1) : base(inputRank switch { 2 => "BatchNorm1d", 5 => "BatchNorm3d", _ => "BatchNorm2d" })
    {
        if (numFeatures is { } n) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(n, nameof(numFeatures));
        if (inputRank is not (2 or 4 or 5))
            throw new ArgumentOutOfRangeException(nameof(inputRank), inputRank, "BatchNorm normalizes [batch, features(, length)] (BatchNorm1d: rank 2), [batch, channels, height, width] (BatchNorm2d: rank 4) or [batch, channels, depth, height, width] (BatchNorm3d: rank 5) inputs");
        if (!(epsilon > 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be positive");
        if (!(momentum is > 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in (0, 1]");
        (InputRank, Epsilon, Momentum) = (inputRank, epsilon, momentum);
        _numBatchesTracked = RegisterBuffer("num_batches_tracked", tensor(0L));
        if (numFeatures is { } size) Materialize(size, ScalarType.Float32, CPU);
    }

    /// <summary>The number of features or channels (dimension 1); null while deferred.</summary>
    public long? NumFeatures => Weight?.shape[0];

    /// <summary>The rank of the inputs: 2 (BatchNorm1d, which also takes [batch, features, length]), 4 (BatchNorm2d) or 5 (BatchNorm3d).</summary>
    public long InputRank { get; }

    /// <summary>Added to the variance before the square root.</summary>
    public double Epsilon { get; }

    /// <summary>The weight of the current batch in the running statistics.</summary>
    public double Momentum { get; }

    /// <summary>The scale γ; null while deferred.</summary>
    public Parameter? Weight { get; private set; }

    /// <summary>The shift β; null while deferred.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected internal override bool HasPendingParameters => Weight is null;

    /// <summary>PyTorch's lazy modules print as <c>LazyBatchNorm2d</c> until their parameters exist.</summary>
    protected override string DisplayName => HasPendingParameters ? "Lazy" + base.DisplayName : base.DisplayName;

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (Weight is null)
        {
            var (size, dtype, device) = DeferredSize.From(input, input.Rank >= 2 ? input.Shape[1] : null, shape =>
                $"{DisplayName} takes its number of features from dimension 1 of its input, but the input shape is {shape}; give num_features or a known dimension 1");
            Materialize(size, dtype, device);
        }
        var rankFits = input.Rank == InputRank || (InputRank == 2 && input.Rank == 3);
        if (!rankFits || input.Rank < 2 || (input.Shape[1].IsKnown && input.Shape[1].Size != NumFeatures))
        {
            var layout = InputRank switch { 2 => "batch, features(, length)", 4 => "batch, channels, height, width", _ => "batch, channels, depth, height, width" };
            var message = $"{GetName()} expects [{layout}] with {NumFeatures} at dimension 1, got {Dim.Format(input.Shape)}";
            throw Tracing.GraphRecorder.Current?.Error(message, "BatchNormalization") ?? (Exception)new ArgumentException(message, nameof(input));
        }
        if (input.IsSymbolic || !training)
            return Ops.BatchNormInference(input, Use(Weight!), Use(Bias!), Use(_runningMean!), Use(_runningVar!), Epsilon);
        using (no_grad()) _numBatchesTracked.add_(1);
        return Value.Eager(nn.functional.batch_norm(input.Tensor, _runningMean, _runningVar, Weight, Bias, training: true, momentum: Momentum, eps: Epsilon));
    }

    /// <inheritdoc/>
    protected internal override (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf)
    {
        ArgumentNullException.ThrowIfNull(shapeOf);
        var found = shapeOf("weight");
        if (found is not [> 0])
            return (null, $"{DisplayName} takes its number of features from a 'weight' of shape [num_features], found {(found is null ? "no 'weight'" : $"one of shape {Onnx.Tensors.HostTensor.FormatShape(found)}")}");
        long[] shape = [found[0]];
        return (new Dictionary<string, long[]>(StringComparer.Ordinal) { ["weight"] = shape, ["bias"] = shape, ["running_mean"] = shape, ["running_var"] = shape }, null);
    }

    /// <inheritdoc/>
    protected internal override void MaterializeFromPlan(IReadOnlyDictionary<string, long[]> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (Weight is null) Materialize(plan["weight"][0], DeferredType, DeferredDevice);
    }

    /// <summary>Creates γ = 1, β = 0 and the running statistics (mean 0, variance 1) for <paramref name="size"/> features.</summary>
    private void Materialize(long size, ScalarType dtype, Device device)
    {
        ChargeBudget(ParameterBudget.Product([4, size]), () => $"{DisplayName} materializing with {size} features");
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", ones(size, dtype, device));
        Bias = RegisterParameter("bias", zeros(size, dtype, device));
        _runningMean = RegisterBuffer("running_mean", zeros(size, dtype, device));
        _runningVar = RegisterBuffer("running_var", ones(size, dtype, device));
        // PyTorch's order: num_batches_tracked after the statistics, though it exists from the start.
        _internal_buffers.Remove("num_batches_tracked");
        register_buffer("num_batches_tracked", _numBatchesTracked);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"{NumFeatures ?? 0}, eps={PythonRepr.Float(Epsilon)}, momentum={PythonRepr.Float(Momentum)}, affine=True, track_running_stats=True");
}
