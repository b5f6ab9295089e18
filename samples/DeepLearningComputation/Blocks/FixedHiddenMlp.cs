using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>
/// d2l's <c>FixedHiddenMLP</c>: a constant random weight that is not a parameter, one
/// <see cref="Linear"/> used twice (shared parameters), and a data-dependent loop
/// <c>while |X|.sum() &gt; 1: X /= 2</c>, which exports as an ONNX Loop.
/// </summary>
public sealed class FixedHiddenMlp : Block
{
    public FixedHiddenMlp() : base("FixedHiddenMLP")
    {
        // In the chapter a plain tensor attribute: not a parameter (no optimizer touches it) and not in
        // PyTorch's state dict. A non-persistent buffer is both, and is still exported into ONNX.
        RandWeight = RegisterBuffer("rand_weight", rand(20, 20), persistent: false);
        Linear = Register("linear", new Linear(20));
    }

    public Tensor RandWeight { get; }

    public Linear Linear { get; }

    protected override Value Forward(Value input)
    {
        var x = Linear.Call(input);
        x = (x.MatMul(Use(RandWeight)) + 1).Relu();
        x = Linear.Call(x); // the same layer again: its parameters are shared
        x = Flow.While(x, v => v.Abs().Sum() > 1, v => v / 2);
        return x.Sum();
    }
}
