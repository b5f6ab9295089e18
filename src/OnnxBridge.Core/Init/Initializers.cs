using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Init;

/// <summary>
/// Initializers for <see cref="Block.Initialize"/> (PyTorch's <c>net.apply(fn)</c>). Each acts on
/// every <see cref="IWeightedLayer"/> (Linear, Conv2d) it is applied to and leaves other blocks alone,
/// like d2l's <c>if type(m) == nn.Linear</c>. Which tensors each one touches is part of its contract:
/// <see cref="Weight"/> and <see cref="Bias"/> touch one tensor, as <c>nn.init.*_(m.weight)</c> does;
/// <see cref="Normal"/> and <see cref="Constant"/> touch both, as d2l's <c>init_normal</c> and
/// <c>init_constant</c> do.
/// </summary>
/// <example>
/// d2l's <c>init_xavier</c> and <c>init_42</c> touch only the weight:
/// <code>net[0].Initialize(Initializers.Weight(TensorInit.XavierUniform()));
/// net[2].Initialize(Initializers.Weight(TensorInit.Constant(42)));</code>
/// </example>
public static class Initializers
{
    /// <summary>Weight ~ N(<paramref name="mean"/>, <paramref name="std"/>²) and bias = 0: d2l's <c>init_normal</c> (both tensors).</summary>
    public static Action<Block> Normal(double mean = 0, double std = 0.01) => Weighted(layer =>
    {
        TensorInit.Normal(mean, std)(layer.Weight!);
        if (layer.Bias is { } bias) TensorInit.Zeros()(bias);
    });

    /// <summary>Weight = <paramref name="value"/> and bias = <paramref name="bias"/>: d2l's <c>init_constant</c> (both tensors).</summary>
    public static Action<Block> Constant(double value, double bias = 0) => Weighted(layer =>
    {
        TensorInit.Constant(value)(layer.Weight!);
        if (layer.Bias is { } b) TensorInit.Constant(bias)(b);
    });

    /// <summary>Runs <paramref name="initialize"/> on each weighted layer's weight only (<c>nn.init.*_(m.weight)</c>).</summary>
    public static Action<Block> Weight(Action<Tensor> initialize)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        return Weighted(layer => initialize(layer.Weight!));
    }

    /// <summary>Runs <paramref name="initialize"/> on each weighted layer's bias only (<c>nn.init.*_(m.bias)</c>); layers without bias are skipped.</summary>
    public static Action<Block> Bias(Action<Tensor> initialize)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        return Weighted(layer =>
        {
            if (layer.Bias is { } bias) initialize(bias);
        });
    }

    /// <summary>Wraps an action on weighted layers as an initializer that skips every other block.</summary>
    public static Action<Block> Weighted(Action<IWeightedLayer> initialize)
    {
        ArgumentNullException.ThrowIfNull(initialize);
        return block =>
        {
            if (block is IWeightedLayer { Weight: not null } layer) initialize(layer);
        };
    }
}
