using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>d2l's custom layer without parameters: subtracts the mean, X - X.mean().</summary>
public sealed class CenteredLayer : Block
{
    public CenteredLayer() : base(nameof(CenteredLayer)) { }

    protected override Value Forward(Value input) => input - input.Mean();
}
