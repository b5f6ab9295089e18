using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>Flattens every dimension after the first (PyTorch's nn.Flatten()).</summary>
public sealed class Flatten : Block
{
    /// <summary>Creates the layer.</summary>
    public Flatten() : base(nameof(Flatten)) { }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => Ops.Flatten(input);
}
