using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

// PyTorch's activation modules, with their constructor arguments, defaults and prints. Each is the
// Ops function of the same name as a block; see Ops.Activations for the formulas and ONNX forms.

/// <summary>nn.Identity: returns its input (no node is exported).</summary>
public sealed class Identity() : Block(nameof(Identity))
{
    protected override Value Forward(Value input) => input;
}

/// <summary>nn.Sigmoid.</summary>
public sealed class Sigmoid() : Block(nameof(Sigmoid))
{
    protected override Value Forward(Value input) => input.Sigmoid();
}

/// <summary>nn.Tanh.</summary>
public sealed class Tanh() : Block(nameof(Tanh))
{
    protected override Value Forward(Value input) => input.Tanh();
}

/// <summary>nn.LeakyReLU(negative_slope=0.01).</summary>
public sealed class LeakyReLU(double negativeSlope = 0.01) : Block(nameof(LeakyReLU))
{
    public double NegativeSlope { get; } = negativeSlope;

    protected override Value Forward(Value input) => Ops.LeakyRelu(input, NegativeSlope);

    protected override string ExtraRepr => $"negative_slope={PythonRepr.Float(NegativeSlope)}";
}

/// <summary>nn.ELU(alpha=1.0).</summary>
public sealed class ELU(double alpha = 1.0) : Block(nameof(ELU))
{
    public double Alpha { get; } = alpha;

    protected override Value Forward(Value input) => Ops.Elu(input, Alpha);

    protected override string ExtraRepr => $"alpha={PythonRepr.Float(Alpha)}";
}

/// <summary>nn.SELU.</summary>
public sealed class SELU() : Block(nameof(SELU))
{
    protected override Value Forward(Value input) => Ops.Selu(input);
}

/// <summary>nn.CELU(alpha=1.0).</summary>
public sealed class CELU(double alpha = 1.0) : Block(nameof(CELU))
{
    public double Alpha { get; } = alpha;

    protected override Value Forward(Value input) => Ops.Celu(input, Alpha);

    protected override string ExtraRepr => $"alpha={PythonRepr.Float(Alpha)}";
}

/// <summary>nn.GELU(approximate='none' | 'tanh').</summary>
public sealed class GELU : Block
{
    public GELU(string approximate = "none") : base(nameof(GELU))
    {
        if (approximate is not ("none" or "tanh")) throw new ArgumentException($"approximate must be 'none' or 'tanh', got '{approximate}'", nameof(approximate));
        Approximate = approximate;
    }

    public string Approximate { get; }

    protected override Value Forward(Value input) => Ops.Gelu(input, tanhApproximation: Approximate == "tanh");

    protected override string ExtraRepr => $"approximate='{Approximate}'";
}

/// <summary>nn.SiLU (swish).</summary>
public sealed class SiLU() : Block(nameof(SiLU))
{
    protected override Value Forward(Value input) => Ops.Silu(input);
}

/// <summary>nn.Mish.</summary>
public sealed class Mish() : Block(nameof(Mish))
{
    protected override Value Forward(Value input) => Ops.Mish(input);
}

/// <summary>nn.Hardtanh(min_val=-1.0, max_val=1.0).</summary>
public sealed class Hardtanh : Block
{
    public Hardtanh(double minVal = -1.0, double maxVal = 1.0) : base(nameof(Hardtanh))
    {
        if (!(maxVal > minVal)) throw new ArgumentException($"max_val ({maxVal}) must be greater than min_val ({minVal})", nameof(maxVal));
        (MinVal, MaxVal) = (minVal, maxVal);
    }

    public double MinVal { get; }

    public double MaxVal { get; }

    protected override Value Forward(Value input) => Ops.Hardtanh(input, MinVal, MaxVal);

    protected override string ExtraRepr => $"min_val={PythonRepr.Float(MinVal)}, max_val={PythonRepr.Float(MaxVal)}";
}

/// <summary>nn.ReLU6.</summary>
public sealed class ReLU6() : Block(nameof(ReLU6))
{
    protected override Value Forward(Value input) => Ops.Relu6(input);
}

/// <summary>nn.Hardsigmoid.</summary>
public sealed class Hardsigmoid() : Block(nameof(Hardsigmoid))
{
    protected override Value Forward(Value input) => Ops.Hardsigmoid(input);
}

/// <summary>nn.Hardswish.</summary>
public sealed class Hardswish() : Block(nameof(Hardswish))
{
    protected override Value Forward(Value input) => Ops.Hardswish(input);
}

/// <summary>nn.Softplus(beta=1.0, threshold=20.0).</summary>
public sealed class Softplus(double beta = 1.0, double threshold = 20.0) : Block(nameof(Softplus))
{
    public double Beta { get; } = beta;

    public double Threshold { get; } = threshold;

    protected override Value Forward(Value input) => Ops.Softplus(input, Beta, Threshold);

    // PyTorch's defaults are the ints 1 and 20, and it prints what it holds.
    protected override string ExtraRepr => $"beta={(Beta == 1 ? "1" : PythonRepr.Float(Beta))}, threshold={(Threshold == 20 ? "20" : PythonRepr.Float(Threshold))}";
}

/// <summary>nn.Softsign.</summary>
public sealed class Softsign() : Block(nameof(Softsign))
{
    protected override Value Forward(Value input) => Ops.Softsign(input);
}

/// <summary>nn.Softmax(dim). PyTorch's implicit dim is deprecated there; here it must be given.</summary>
public sealed class Softmax(long dim) : Block(nameof(Softmax))
{
    public long Dim { get; } = dim;

    protected override Value Forward(Value input) => input.Softmax(Dim);

    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>nn.LogSoftmax(dim).</summary>
public sealed class LogSoftmax(long dim) : Block(nameof(LogSoftmax))
{
    public long Dim { get; } = dim;

    protected override Value Forward(Value input) => input.LogSoftmax(Dim);

    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>nn.Softmin(dim).</summary>
public sealed class Softmin(long dim) : Block(nameof(Softmin))
{
    public long Dim { get; } = dim;

    protected override Value Forward(Value input) => input.Softmin(Dim);

    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>nn.GLU(dim=-1).</summary>
public sealed class GLU(long dim = -1) : Block(nameof(GLU))
{
    public long Dim { get; } = dim;

    protected override Value Forward(Value input) => Ops.Glu(input, Dim);

    protected override string ExtraRepr => $"dim={Dim}";
}

/// <summary>
/// nn.PReLU(num_parameters=1, init=0.25): a learned slope for negative inputs, one for all channels
/// or one per channel (dimension 1). Its state-dict key is <c>weight</c>, as in PyTorch.
/// </summary>
public sealed class PReLU : Block
{
    public PReLU(long numParameters = 1, double init = 0.25) : base(nameof(PReLU))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numParameters);
        (NumParameters, Init) = (numParameters, init);
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", full(numParameters, init));
    }

    public long NumParameters { get; }

    public double Init { get; }

    /// <summary>The slopes, [num_parameters].</summary>
    public TorchSharp.Modules.Parameter Weight { get; }

    protected override Value Forward(Value input) => Ops.Prelu(input, Use(Weight));

    protected override string ExtraRepr => $"num_parameters={NumParameters}";
}
