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

    /// <summary>eˣ / Σ eˣ along <paramref name="dim"/> (torch.softmax, ONNX Softmax-13 on one axis).</summary>
    public static Value Softmax(Value x, long dim) => AlongAxis(x, dim, "Softmax", t => t.softmax(dim));

    /// <summary>log softmax along <paramref name="dim"/> (torch.log_softmax, ONNX LogSoftmax-13).</summary>
    public static Value LogSoftmax(Value x, long dim) => AlongAxis(x, dim, "LogSoftmax", t => t.log_softmax(dim));

    /// <summary>softmax(−x) along <paramref name="dim"/> (torch.nn.functional.softmin; ONNX: Softmax of Neg).</summary>
    public static Value Softmin(Value x, long dim) =>
        GraphOf(x) is null ? AlongAxis(x, dim, "Softmin", t => t.neg().softmax(dim)) : Softmax(Neg(x), dim);

    /// <summary>A floating-point op over one axis with the input's shape (softmax family).</summary>
    private static Value AlongAxis(Value x, long dim, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (!IsFloating(x.ElementType))
            throw Refused(op, $"takes floating-point values, got {Onnx.Tensors.ElementTypes.Name(x.ElementType)}; convert first with x.To(DataType.Float)", x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, op, dim, sx.Shape.Count);
        return Value.Symbolic(graph.Node(op).Attribute("axis", axis).Input(sx).Output(sx.ElementType, sx.Shape));
    }
}
