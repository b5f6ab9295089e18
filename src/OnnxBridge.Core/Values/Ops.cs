using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// The operations a forward can use. Each one computes with TorchSharp when its operands are eager
/// and records the matching ONNX node (with shape inference) when any operand is symbolic. An eager
/// operand of a recorded op becomes an initializer (parameters, buffers) or a Constant node.
/// </summary>
public static partial class Ops
{
    /// <summary>max(x, 0), element-wise.</summary>
    public static Value Relu(Value x) => Unary(x, "Relu", t => nn.functional.relu(t));

    /// <summary>|x|, element-wise.</summary>
    public static Value Abs(Value x) => Unary(x, "Abs", t => t.abs());

    /// <summary>-x, element-wise.</summary>
    public static Value Neg(Value x) => Unary(x, "Neg", t => t.neg());

    /// <summary>a + b with broadcasting.</summary>
    public static Value Add(Value a, Value b) => Binary(a, b, "Add", (x, y) => x.add(y));

    /// <summary>a - b with broadcasting.</summary>
    public static Value Sub(Value a, Value b) => Binary(a, b, "Sub", (x, y) => x.sub(y));

    /// <summary>a * b with broadcasting.</summary>
    public static Value Mul(Value a, Value b) => Binary(a, b, "Mul", (x, y) => x.mul(y));

    /// <summary>a / b with broadcasting.</summary>
    public static Value Div(Value a, Value b) => Binary(a, b, "Div", (x, y) => x.div(y));

    /// <summary>a &gt; b with broadcasting, as a bool value (torch.gt, ONNX Greater).</summary>
    public static Value Greater(Value a, Value b) => Binary(a, b, "Greater", (x, y) => x.gt(y), DataType.Bool);

    /// <summary>a &lt; b with broadcasting, as a bool value (torch.lt, ONNX Less).</summary>
    public static Value Less(Value a, Value b) => Binary(a, b, "Less", (x, y) => x.lt(y), DataType.Bool);

    /// <summary>Mean of all elements, as a scalar (torch.mean, ONNX ReduceMean with keepdims=0).</summary>
    public static Value Mean(Value x) => ReduceAll(x, "ReduceMean", t => t.mean());

    /// <summary>
    /// The escape hatch: raw TorchSharp code for the eager run, with an optional lowering written in
    /// <see cref="Value"/> operations for export. Without a lowering, export fails naming
    /// <paramref name="name"/> and the block.
    /// </summary>
    public static Value Custom(string name, Value x, Func<Tensor, Tensor> eager, Func<Value, Value>? lowering = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(eager);
        if (GraphOf(x) is not { } graph) return Eager(name, () => eager(x.Tensor), x);
        return lowering is not null
            ? lowering(x)
            : throw graph.Error($"custom operation '{name}' is raw TorchSharp code without an ONNX lowering; pass a lowering written with Value operations to Ops.Custom, or write it with Value operations", name);
    }

    /// <summary>Matrix product (torch.matmul, ONNX MatMul).</summary>
    public static Value MatMul(Value a, Value b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (GraphOf(a, b) is not { } graph) return Eager("MatMul", () => a.Tensor.matmul(b.Tensor), a, b);
        var (sa, sb) = (Lift(graph, a), Lift(graph, b));
        RequireSameType(graph, "MatMul", sa, sb);
        var shape = ShapeInference.MatMul(graph, sa.Shape, sb.Shape);
        return Value.Symbolic(graph.AddNode("MatMul", [sa, sb], [(sa.ElementType, shape)])[0]);
    }

    /// <summary>Sum of all elements, as a scalar (torch.sum, ONNX ReduceSum with keepdims=0).</summary>
    public static Value Sum(Value x) => ReduceAll(x, "ReduceSum", t => t.sum());

    /// <summary>
    /// y = x·Wᵀ + b, PyTorch's linear layout (W is [out, in]). Records one Gemm for a matrix input,
    /// Transpose + MatMul + Add for inputs of other ranks.
    /// </summary>
    public static Value Linear(Value x, Value weight, Value? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("Gemm", () => nn.functional.linear(x.Tensor, weight.Tensor, bias?.Tensor), x, weight, bias);

        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "Gemm", sx, sw);
        if (sw.Shape.Count != 2) throw graph.Error($"weight must be a matrix [out, in], got {Dim.Format(sw.Shape)}", "Gemm");
        var (outFeatures, inFeatures) = (sw.Shape[0], sw.Shape[1]);
        if (sx.Shape.Count == 0 || (sx.Shape[^1].IsKnown && inFeatures.IsKnown && sx.Shape[^1].Size != inFeatures.Size))
            throw graph.Error($"input {Dim.Format(sx.Shape)} does not fit weight {Dim.Format(sw.Shape)}: the last dimension must be {inFeatures}", "Gemm");
        var outShape = sx.Shape.Take(sx.Shape.Count - 1).Append(outFeatures).ToArray();

        if (sx.Shape.Count == 2)
        {
            var transB = new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 };
            var inputs = bias is null ? new[] { sx, sw } : [sx, sw, Lift(graph, bias)];
            return Value.Symbolic(graph.AddNode("Gemm", inputs, [(sx.ElementType, outShape)], [transB])[0]);
        }
        var perm = new AttributeProto { Name = "perm", Type = AttributeProto.Types.AttributeType.Ints };
        perm.Ints.AddRange([1, 0]);
        var transposed = graph.AddNode("Transpose", [sw], [(sw.ElementType, new[] { inFeatures, outFeatures })], [perm])[0];
        var product = graph.AddNode("MatMul", [sx, transposed], [(sx.ElementType, outShape)])[0];
        return bias is null ? Value.Symbolic(product) : Add(Value.Symbolic(product), bias);
    }

    /// <summary>A scalar with the element type (and device) of <paramref name="like"/>.</summary>
    internal static Value ScalarLike(Value like, double value)
    {
        if (!like.IsSymbolic) return Value.Eager(tensor(value, like.Tensor.dtype, like.Tensor.device));
        var host = like.ElementType switch
        {
            DataType.Float => HostTensor.Create([(float)value]),
            DataType.Double => HostTensor.Create([value]),
            DataType.Int64 => HostTensor.Create([(long)value]),
            DataType.Int32 => HostTensor.Create([(int)value]),
            var other => throw like.Symbol.Graph.Error($"scalar arithmetic on {ElementTypes.Name(other)} values is not supported"),
        };
        return Value.Symbolic(like.Symbol.Graph.Constant(host));
    }

    /// <summary>A reduction over all axes to a scalar: no axes given means all axes in every opset we emit.</summary>
    private static Value ReduceAll(Value x, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var input = Lift(graph, x);
        var keepdims = new AttributeProto { Name = "keepdims", Type = AttributeProto.Types.AttributeType.Int, I = 0 };
        return Value.Symbolic(graph.AddNode(op, [input], [(input.ElementType, Array.Empty<Dim>())], [keepdims])[0]);
    }

    private static Value Unary(Value x, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var input = Lift(graph, x);
        return Value.Symbolic(graph.AddNode(op, [input], [(input.ElementType, input.Shape)])[0]);
    }

    /// <summary>An element-wise op with broadcasting; the result has the operands' type unless <paramref name="resultType"/> says otherwise (comparisons).</summary>
    private static Value Binary(Value a, Value b, string op, Func<Tensor, Tensor, Tensor> eager, DataType? resultType = null)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (GraphOf(a, b) is not { } graph) return Eager(op, () => eager(a.Tensor, b.Tensor), a, b);
        var (sa, sb) = (Lift(graph, a), Lift(graph, b));
        RequireSameType(graph, op, sa, sb);
        var shape = ShapeInference.Broadcast(graph, op, sa.Shape, sb.Shape);
        return Value.Symbolic(graph.AddNode(op, [sa, sb], [(resultType ?? sa.ElementType, shape)])[0]);
    }

    /// <summary>
    /// Runs an eager computation; libtorch's refusal (shapes that do not fit, mostly) becomes a
    /// <see cref="Blocks.ForwardException"/> naming the op and the operand shapes — the block path
    /// is added as it leaves the block tree — instead of C++ stack frames.
    /// </summary>
    internal static Value Eager(string op, Func<Tensor> compute, params Value?[] operands)
    {
        try
        {
            return Value.Eager(compute());
        }
        catch (System.Runtime.InteropServices.ExternalException e)
        {
            var shapes = operands.Where(o => o is not null).Select(o => HostTensor.FormatShape(o!.Tensor.shape)).ToList();
            var detail = e.Message.Split('\n', 2)[0].Trim();
            throw new Blocks.ForwardException(op, shapes, detail, e);
        }
    }

    /// <summary>The graph being recorded if any operand is symbolic; null when all are eager.</summary>
    private static GraphRecorder? GraphOf(params Value?[] values)
    {
        foreach (var v in values)
        {
            if (v is { IsSymbolic: true }) return v.Symbol.Graph;
        }
        return null;
    }

    /// <summary>The symbolic form of an operand: itself, or an eager tensor as an initializer or Constant.</summary>
    internal static SymbolicTensor Lift(GraphRecorder graph, Value v) => v.IsSymbolic ? v.Symbol : graph.UseTensor(v.Tensor);

    private static void RequireSameType(GraphRecorder graph, string op, SymbolicTensor a, SymbolicTensor b)
    {
        if (a.ElementType != b.ElementType)
            throw graph.Error($"operands have different element types: {ElementTypes.Name(a.ElementType)} and {ElementTypes.Name(b.ElementType)}", op);
    }
}
