using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Activation functions and the softmax family.</summary>
public static partial class Ops
{
    /// <summary>max(x, 0) (torch.relu, ONNX Relu).</summary>
    public static Value Relu(Value x) => Unary(x, "Relu", t => nn.functional.relu(t));

    /// <summary>1 / (1 + e⁻ˣ) (torch.sigmoid, ONNX Sigmoid).</summary>
    public static Value Sigmoid(Value x) => FloatUnary(x, "Sigmoid", t => t.sigmoid());

    /// <summary>tanh x (torch.tanh, ONNX Tanh).</summary>
    public static Value Tanh(Value x) => FloatUnary(x, "Tanh", t => t.tanh());

    /// <summary>max(x, 0) + slope·min(x, 0) (torch leaky_relu, ONNX LeakyRelu).</summary>
    public static Value LeakyRelu(Value x, double negativeSlope = 0.01) =>
        FloatUnary(x, "LeakyRelu", t => nn.functional.leaky_relu(t, negativeSlope), node => node.Attribute("alpha", (float)negativeSlope));

    /// <summary>
    /// max(x, 0) + w·min(x, 0) with a learned slope per channel (dimension 1), or one for all
    /// (torch prelu, ONNX PRelu with the slope shaped [C, 1, ...] so it broadcasts over channels).
    /// </summary>
    public static Value Prelu(Value x, Value weight)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (GraphOf(x, weight) is not { } graph) return Eager("PRelu", () => nn.functional.prelu(x.Tensor, weight.Tensor), x, weight);
        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "PRelu", sx, sw);
        var slope = sw.Shape is [{ Size: > 1 }] && sx.Shape.Count > 2
            ? Lift(graph, Reshape(Value.Symbolic(sw), [-1, .. Enumerable.Repeat(1L, sx.Shape.Count - 2)]))
            : sw;
        return Value.Symbolic(graph.Node("PRelu").Input(sx, slope).Output(sx.ElementType, sx.Shape));
    }

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (torch elu, ONNX Elu).</summary>
    public static Value Elu(Value x, double alpha = 1.0) =>
        FloatUnary(x, "Elu", t => nn.functional.elu(t, alpha), node => node.Attribute("alpha", (float)alpha));

    /// <summary>PyTorch's SELU constants (torch selu, ONNX Selu with the same α and γ).</summary>
    public static Value Selu(Value x) =>
        FloatUnary(x, "Selu", t => nn.functional.selu(t), node => node.Attribute("alpha", 1.6732632423543772f).Attribute("gamma", 1.0507009873554805f));

    /// <summary>max(0, x) + min(0, α(e^(x/α) − 1)) (torch celu, ONNX Celu).</summary>
    public static Value Celu(Value x, double alpha = 1.0) =>
        FloatUnary(x, "Celu", t => nn.functional.celu(t, alpha), node => node.Attribute("alpha", (float)alpha));

    /// <summary>
    /// x·Φ(x), exactly (erf) or with PyTorch's tanh approximation (torch gelu; ONNX Gelu from opset
    /// 20, the same formula in Erf or Tanh before it).
    /// </summary>
    public static Value Gelu(Value x, bool tanhApproximation = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(RequireFloat(x, "Gelu")) is { Opset: < 20 })
        {
            var inner = tanhApproximation
                ? ((x + x * x * x * 0.044715) * Math.Sqrt(2 / Math.PI)).Tanh()
                : (x * (1 / Math.Sqrt(2))).Erf();
            return x * 0.5 * (inner + 1);
        }
        return FloatUnary(x, "Gelu",
            t => tanhApproximation ? nn.functional.gelu(t, TorchSharp.Modules.GELU.Approximate.tanh) : nn.functional.gelu(t),
            node => node.Attribute("approximate", tanhApproximation ? "tanh" : "none"));
    }

    /// <summary>x·sigmoid(x) (torch silu; ONNX: Mul of Sigmoid).</summary>
    public static Value Silu(Value x) =>
        GraphOf(x) is null ? FloatUnary(x, "Silu", t => nn.functional.silu(t)) : RequireFloat(x, "Silu") * Sigmoid(x);

    /// <summary>x·tanh(softplus(x)) (torch mish; ONNX Mish from opset 18, the formula before it).</summary>
    public static Value Mish(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return GraphOf(RequireFloat(x, "Mish")) is { Opset: < 18 } ? x * Softplus(x).Tanh() : FloatUnary(x, "Mish", t => nn.functional.mish(t));
    }

    /// <summary>x limited to [min, max] (torch hardtanh, ONNX Clip).</summary>
    public static Value Hardtanh(Value x, double min = -1, double max = 1) => Clamp(RequireFloat(x, "Hardtanh"), min, max);

    /// <summary>min(max(x, 0), 6) (torch relu6, ONNX Clip).</summary>
    public static Value Relu6(Value x) => Clamp(RequireFloat(x, "Relu6"), 0, 6);

    /// <summary>relu6(x + 3) / 6 (torch hardsigmoid, ONNX HardSigmoid with α = 1/6, β = 1/2).</summary>
    public static Value Hardsigmoid(Value x) =>
        FloatUnary(x, "HardSigmoid", t => nn.functional.hardsigmoid(t), node => node.Attribute("alpha", 1f / 6).Attribute("beta", 0.5f));

    /// <summary>x·relu6(x + 3) / 6 (torch hardswish; ONNX HardSwish from opset 14, x·HardSigmoid(x) before it).</summary>
    public static Value Hardswish(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        return GraphOf(RequireFloat(x, "HardSwish")) is { Opset: < 14 } ? x * Hardsigmoid(x) : FloatUnary(x, "HardSwish", t => nn.functional.hardswish(t));
    }

    /// <summary>
    /// log(1 + e^(βx)) / β, and x itself where βx &gt; <paramref name="threshold"/>, as PyTorch
    /// computes it (torch softplus; ONNX Softplus of βx, with the threshold as a Where).
    /// </summary>
    public static Value Softplus(Value x, double beta = 1, double threshold = 20)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return FloatUnary(x, "Softplus", t => nn.functional.softplus(t, beta, threshold));
        RequireFloat(x, "Softplus");
        var scaled = beta == 1 ? x : x * beta;
        var sx = Lift(graph, scaled);
        var soft = Value.Symbolic(graph.Node("Softplus").Input(sx).Output(sx.ElementType, sx.Shape));
        return Where(scaled > threshold, x, beta == 1 ? soft : soft / beta);
    }

    /// <summary>x / (1 + |x|) (torch softsign, ONNX Softsign).</summary>
    public static Value Softsign(Value x) => FloatUnary(x, "Softsign", t => nn.functional.softsign(t));

    /// <summary>a·sigmoid(b) for the two halves a, b of <paramref name="dim"/> (torch glu; ONNX Split, Sigmoid, Mul).</summary>
    public static Value Glu(Value x, long dim = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is null) return FloatUnary(x, "Glu", t => nn.functional.glu(t, dim));
        var size = KnownSize(RequireFloat(x, "Glu"), dim, "Glu");
        if (size % 2 != 0) throw Refused("Glu", $"GLU halves dimension {dim}, which has an odd size {size}", x);
        var halves = Split(x, [size / 2, size / 2], dim);
        return halves[0] * Sigmoid(halves[1]);
    }

    /// <summary>eˣ / Σ eˣ along <paramref name="dim"/> (torch.softmax, ONNX Softmax-13 on one axis).</summary>
    public static Value Softmax(Value x, long dim) => AlongAxis(x, dim, "Softmax", t => t.softmax(dim));

    /// <summary>log softmax along <paramref name="dim"/> (torch.log_softmax, ONNX LogSoftmax-13).</summary>
    public static Value LogSoftmax(Value x, long dim) => AlongAxis(x, dim, "LogSoftmax", t => t.log_softmax(dim));

    /// <summary>softmax(−x) along <paramref name="dim"/> (torch.nn.functional.softmin; ONNX: Softmax of Neg).</summary>
    public static Value Softmin(Value x, long dim) =>
        GraphOf(x) is null ? AlongAxis(x, dim, "Softmin", t => t.neg().softmax(dim)) : Softmax(Neg(x), dim);

    /// <summary>
    /// An element-wise function defined on floating-point values only (ONNX has no integer Exp or
    /// Sigmoid), refused for others eagerly and in the graph alike: TorchSharp's function eagerly, the
    /// ONNX op of the same name (with <paramref name="attributes"/>) in the graph.
    /// </summary>
    private static Value FloatUnary(Value x, string op, Func<Tensor, Tensor> eager, Func<Tracing.OnnxNode, Tracing.OnnxNode>? attributes = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, op);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var sx = Lift(graph, x);
        var node = graph.Node(op).Input(sx);
        return Value.Symbolic((attributes?.Invoke(node) ?? node).Output(sx.ElementType, sx.Shape));
    }

    /// <summary>A floating-point op over one axis with the input's shape (softmax family).</summary>
    private static Value AlongAxis(Value x, long dim, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, op);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, op, dim, sx.Shape.Count);
        return Value.Symbolic(graph.Node(op).Attribute("axis", axis).Input(sx).Output(sx.ElementType, sx.Shape));
    }
}
