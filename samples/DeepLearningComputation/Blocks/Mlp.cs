using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>d2l's <c>MLP</c>: a hidden layer of 256 units with ReLU, then 10 outputs; input size deferred.</summary>
public sealed class Mlp : Block
{
    public Mlp() : base("MLP")
    {
        Hidden = Register("hidden", new Linear(256));
        Out = Register("out", new Linear(10));
    }

    public Linear Hidden { get; }

    public Linear Out { get; }

    protected override Value Forward(Value input) => Out.Call(Hidden.Call(input).Relu());
}
