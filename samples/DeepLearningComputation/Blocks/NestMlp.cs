using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>d2l's <c>NestMLP</c>: a Sequential inside a user block, followed by a layer.</summary>
public sealed class NestMlp : Block
{
    private readonly Sequential _net;
    private readonly Linear _linear;

    public NestMlp() : base("NestMLP")
    {
        _net = Register("net", new Sequential(new Linear(64), new ReLU(), new Linear(32), new ReLU()));
        _linear = Register("linear", new Linear(16));
    }

    protected override Value Forward(Value input) => _linear.Call(_net.Call(input));
}
