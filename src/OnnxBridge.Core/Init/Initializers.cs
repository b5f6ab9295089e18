using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Init;

/// <summary>
/// The chapter's built-in initializers, for <see cref="Block.Initialize"/>. Each acts on every
/// <see cref="IWeightedLayer"/> it is applied to and leaves other blocks alone, like d2l's
/// <c>if type(module) == nn.Linear</c>.
/// </summary>
public static class Initializers
{
    /// <summary>Weight ~ N(<paramref name="mean"/>, <paramref name="std"/>²), bias = 0 (d2l's <c>init_normal</c>).</summary>
    public static Action<Block> Normal(double mean = 0, double std = 0.01) => Weighted(layer =>
    {
        nn.init.normal_(layer.Weight!, mean, std);
        if (layer.Bias is { } bias) nn.init.zeros_(bias);
    });

    /// <summary>Weight = <paramref name="value"/>, bias = <paramref name="bias"/> (d2l's <c>init_constant</c>, <c>init_42</c>).</summary>
    public static Action<Block> Constant(double value, double bias = 0) => Weighted(layer =>
    {
        nn.init.constant_(layer.Weight!, value);
        if (layer.Bias is { } b) nn.init.constant_(b, bias);
    });

    /// <summary>Xavier (Glorot) uniform weight, bias = 0 (d2l's <c>init_xavier</c>).</summary>
    public static Action<Block> XavierUniform() => Weighted(layer =>
    {
        nn.init.xavier_uniform_(layer.Weight!);
        if (layer.Bias is { } bias) nn.init.zeros_(bias);
    });

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
