using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>max(x, 0), element-wise. No parameters.</summary>
public sealed class ReLU : Block
{
    /// <summary>Creates the activation.</summary>
    public ReLU() : base(nameof(ReLU)) { }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => input.Relu();
}
