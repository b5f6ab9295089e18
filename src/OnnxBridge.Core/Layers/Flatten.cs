using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>nn.Flatten(start_dim=1, end_dim=-1): merges dimensions start..end (by default every dimension after the batch).</summary>
public sealed class Flatten(long startDim = 1, long endDim = -1) : Block(nameof(Flatten))
{
    public long StartDim { get; } = startDim;

    public long EndDim { get; } = endDim;

    /// <inheritdoc/>
    protected override Value Forward(Value input) => Ops.Flatten(input, StartDim, EndDim);

    /// <inheritdoc/>
    protected override string ExtraRepr => $"start_dim={StartDim}, end_dim={EndDim}";
}
