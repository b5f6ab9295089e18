using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// What a block's forward computes with. A value is either <em>eager</em> — it wraps a TorchSharp
/// tensor, so the forward runs now and autograd works — or <em>symbolic</em>: it names a value in an
/// ONNX graph being recorded, and every operation on it appends a node. One forward, written once
/// against <see cref="Value"/>, therefore both trains in TorchSharp and exports to ONNX.
/// </summary>
public sealed partial class Value
{
    private readonly Tensor? _eager;
    private readonly SymbolicTensor? _symbolic;

    private Value(Tensor? eager, SymbolicTensor? symbolic)
    {
        _eager = eager;
        _symbolic = symbolic;
    }

    /// <summary>Wraps a TorchSharp tensor.</summary>
    public static Value Eager(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return new Value(tensor, null);
    }

    internal static Value Symbolic(SymbolicTensor symbol) => new(null, symbol);

    /// <summary>Whether this value is being recorded into an ONNX graph rather than computed.</summary>
    public bool IsSymbolic => _symbolic is not null;

    /// <summary>The TorchSharp tensor of an eager value.</summary>
    /// <exception cref="Export.ExportException">The value is symbolic: its data does not exist during export.</exception>
    public Tensor Tensor => _eager ?? throw GraphRecorder.DataAccessDuringExport(nameof(Tensor));

    internal SymbolicTensor Symbol => _symbolic ?? throw new InvalidOperationException("the value is eager, not symbolic");

    /// <summary>The shape: exact for eager values, possibly symbolic (e.g. <c>batch</c>) during export.</summary>
    public IReadOnlyList<Dim> Shape => _symbolic?.Shape ?? _eager!.shape.Select(Dim.Known).ToArray();

    /// <summary>The number of dimensions.</summary>
    public int Rank => Shape.Count;

    /// <summary>The ONNX element type.</summary>
    public DataType ElementType => _symbolic?.ElementType ?? DTypes.ToOnnx(_eager!.dtype);

    /// <summary>
    /// Reads a scalar's value. Works eagerly; fails at export with a message saying what to use
    /// instead, because a value read into C# cannot be recorded in a graph.
    /// </summary>
    public double Item() => _eager is not null ? _eager.to(ScalarType.Float64).item<double>() : throw GraphRecorder.DataAccessDuringExport(nameof(Item));

    /// <summary>Element-wise rectified linear unit, max(x, 0).</summary>
    public Value Relu() => Ops.Relu(this);

    /// <summary>Element-wise absolute value.</summary>
    public Value Abs() => Ops.Abs(this);

    /// <summary>Mean of all elements, a scalar.</summary>
    public Value Mean() => Ops.Mean(this);

    /// <summary>Sum of all elements, a scalar.</summary>
    public Value Sum() => Ops.Sum(this);

    /// <summary>Matrix product with numpy's broadcasting rules (ONNX MatMul, torch.matmul).</summary>
    public Value MatMul(Value other) => Ops.MatMul(this, other);

    /// <summary>Element-wise sum with broadcasting.</summary>
    public static Value operator +(Value a, Value b) => Ops.Add(a, b);

    /// <summary>Element-wise difference with broadcasting.</summary>
    public static Value operator -(Value a, Value b) => Ops.Sub(a, b);

    /// <summary>Element-wise product with broadcasting.</summary>
    public static Value operator *(Value a, Value b) => Ops.Mul(a, b);

    /// <summary>Element-wise quotient with broadcasting.</summary>
    public static Value operator /(Value a, Value b) => Ops.Div(a, b);

    /// <summary>Adds a scalar of the value's element type.</summary>
    public static Value operator +(Value a, double b) => Ops.Add(a, Ops.ScalarLike(a, b));

    /// <summary>Subtracts a scalar of the value's element type.</summary>
    public static Value operator -(Value a, double b) => Ops.Sub(a, Ops.ScalarLike(a, b));

    /// <summary>Multiplies by a scalar of the value's element type.</summary>
    public static Value operator *(Value a, double b) => Ops.Mul(a, Ops.ScalarLike(a, b));

    /// <summary>Divides by a scalar of the value's element type.</summary>
    public static Value operator /(Value a, double b) => Ops.Div(a, Ops.ScalarLike(a, b));

    /// <summary>Element-wise a &gt; b, a bool value.</summary>
    public static Value operator >(Value a, Value b) => Ops.Greater(a, b);

    /// <summary>Element-wise a &lt; b, a bool value.</summary>
    public static Value operator <(Value a, Value b) => Ops.Less(a, b);

    /// <summary>Element-wise a &gt; scalar, a bool value.</summary>
    public static Value operator >(Value a, double b) => Ops.Greater(a, Ops.ScalarLike(a, b));

    /// <summary>Element-wise a &lt; scalar, a bool value.</summary>
    public static Value operator <(Value a, double b) => Ops.Less(a, Ops.ScalarLike(a, b));

    /// <summary>Element-wise negation.</summary>
    public static Value operator -(Value a) => Ops.Neg(a);

    /// <inheritdoc/>
    public override string ToString() =>
        _symbolic?.ToString() ?? $"eager {ElementTypes.Name(ElementType)}{Dim.Format(Shape)}";
}
