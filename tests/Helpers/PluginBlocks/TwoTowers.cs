using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Tests.PluginBlocks;

/// <summary>relu(Linear(left) + Linear(right)): a block with two inputs, sizes deferred.</summary>
public sealed class TwoTowers : MultiInputBlock
{
    private readonly Linear _left;
    private readonly Linear _right;

    public TwoTowers() : base(nameof(TwoTowers))
    {
        _left = Register("left", new Linear(6));
        _right = Register("right", new Linear(6));
    }

    public override int InputCount => 2;

    protected override Value Forward(IReadOnlyList<Value> inputs) => (_left.Call(inputs[0]) + _right.Call(inputs[1])).Relu();
}
