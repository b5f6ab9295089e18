using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// y = x·Wᵀ + b with PyTorch's layout and initialization (W is [out, in]; both drawn from
/// U(-1/√in, 1/√in)). <c>new Linear(20, 256)</c> is PyTorch's <c>nn.Linear(20, 256)</c>: input
/// size first. <c>new Linear(256)</c> is <c>nn.LazyLinear(256)</c>: the input size is taken from the
/// first input, from <see cref="Block.Build(Values.InputSpec)"/>, or from a state dict being loaded
/// (deferred initialization), and until then the layer prints as <c>LazyLinear</c>.
/// </summary>
public sealed class Linear : WeightedLayer
{
    /// <summary>PyTorch's <c>nn.Linear(in_features, out_features, bias)</c>; a null <paramref name="inFeatures"/> defers it.</summary>
    public Linear(long? inFeatures, long outFeatures, bool bias = true) : base(nameof(Linear), bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outFeatures);
        if (inFeatures is { } known) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(known, nameof(inFeatures));
        OutFeatures = outFeatures;
        if (inFeatures is { } size) Materialize([outFeatures, size], ScalarType.Float32, CPU, initialize: true);
    }

    /// <summary>PyTorch's <c>nn.LazyLinear(out_features, bias)</c>: the input size comes from the first input.</summary>
    public Linear(long outFeatures, bool bias = true) : this(null, outFeatures, bias) { }

    /// <summary>The output size.</summary>
    public long OutFeatures { get; }

    /// <summary>The input size, once known.</summary>
    public long? InFeatures => Weight?.shape[1];

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (Weight is null)
        {
            var (size, dtype, device) = DeferredSize.From(input, input.Rank > 0 ? input.Shape[^1] : null, shape =>
                $"Linear({OutFeatures}) takes its input size from the last dimension of its input, but the input shape is {shape}; give the input size or a known last dimension");
            Materialize([OutFeatures, size], dtype, device, initialize: true);
        }
        return Ops.Linear(input, Use(Weight!), Bias is null ? null : Use(Bias));
    }

    /// <inheritdoc/>
    protected internal override (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf)
    {
        ArgumentNullException.ThrowIfNull(shapeOf);
        var found = shapeOf("weight");
        if (found is not { Count: 2 } || found[0] != OutFeatures || found[1] <= 0)
        {
            var seen = found is null ? "no 'weight'" : $"'weight' of shape {Onnx.Tensors.HostTensor.FormatShape(found)}";
            return (null, $"Linear({OutFeatures}) takes its input size from a 'weight' of shape [{OutFeatures}, in_features], found {seen}");
        }
        var plan = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["weight"] = [OutFeatures, found[1]] };
        if (HasBias) plan["bias"] = [OutFeatures];
        return (plan, null);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr =>
        $"in_features={InFeatures ?? 0}, out_features={OutFeatures}, bias={(HasBias ? "True" : "False")}";
}
