using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Conformance;

/// <summary>
/// A user block whose forward is a function of its inputs (and of one tensor of its own, for the
/// cases whose PyTorch module held a parameter): how the pytorch-operator cases — lambdas and
/// two-line modules in PyTorch's test_operators.py — are written with OnnxBridge.
/// </summary>
internal sealed class FunctionBlock : MultiOutputBlock
{
    private readonly Func<Value[], Value?, Value[]> _forward;
    private readonly Tensor? _own;

    /// <param name="inputCount">How many inputs the function takes.</param>
    /// <param name="forward">The function, giving one value per output.</param>
    /// <param name="outputCount">How many values it gives.</param>
    public FunctionBlock(int inputCount, Func<Value[], Value[]> forward, int outputCount = 1) : base("Function")
    {
        (InputCount, OutputCount) = (inputCount, outputCount);
        _forward = (inputs, _) => forward(inputs);
    }

    /// <summary>A one-input function of the input and a tensor of the block's own, registered as <paramref name="name"/>: a parameter when it is floating-point, else a buffer.</summary>
    public FunctionBlock(string name, Tensor initial, Func<Value, Value, Value> forward) : base("Function")
    {
        ArgumentNullException.ThrowIfNull(initial);
        (InputCount, OutputCount) = (1, 1);
        _own = initial.is_floating_point() ? RegisterParameter(name, initial) : RegisterBuffer(name, initial);
        _forward = (inputs, own) => [forward(inputs[0], own!)];
    }

    public override int InputCount { get; }

    public override int OutputCount { get; }

    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs) =>
        _forward([.. inputs], _own is null ? null : Use(_own));
}
