using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>d2l's custom layer with parameters: relu(X·W + b), W of shape [in_units, units].</summary>
public sealed class MyLinear : Block
{
    public MyLinear(long inUnits, long units) : base(nameof(MyLinear))
    {
        Weight = RegisterParameter("weight", randn(inUnits, units));
        Bias = RegisterParameter("bias", randn(units));
    }

    /// <summary>The input size (also what architecture files record).</summary>
    public long InUnits => Weight.shape[0];

    /// <summary>The output size.</summary>
    public long Units => Weight.shape[1];

    public Parameter Weight { get; }

    public Parameter Bias { get; }

    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"in_units={InUnits}, units={Units}");

    protected override Value Forward(Value input) => (input.MatMul(Use(Weight)) + Use(Bias)).Relu();
}
