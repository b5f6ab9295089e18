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

/// <summary>
/// A shared trunk with two heads — class logits and a score — and the trunk's features as a third
/// output (a value that is also used inside the graph): a PyTorch forward returning a tuple.
/// </summary>
public sealed class TwoHeads : MultiOutputBlock
{
    private readonly Linear _trunk;
    private readonly Linear _classes;
    private readonly Linear _score;

    public TwoHeads() : base(nameof(TwoHeads))
    {
        _trunk = Register("trunk", new Linear(4, 8));
        _classes = Register("classes", new Linear(8, 3));
        _score = Register("score", new Linear(8, 1));
    }

    public override int OutputCount => 3;

    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var features = _trunk.Call(inputs[0]).Relu();
        return [_classes.Call(features).Softmax(-1), _score.Call(features).Sigmoid(), features];
    }
}
