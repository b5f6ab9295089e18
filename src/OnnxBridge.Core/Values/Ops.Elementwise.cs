using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Element-wise arithmetic, math functions, comparisons, logic, selection and casts, with numpy/PyTorch broadcasting.</summary>
public static partial class Ops
{
    /// <summary>a + b (torch.add, ONNX Add).</summary>
    public static Value Add(Value a, Value b) => Binary(a, b, "Add", (x, y) => x.add(y));

    /// <summary>a − b (torch.sub, ONNX Sub).</summary>
    public static Value Sub(Value a, Value b) => Binary(a, b, "Sub", (x, y) => x.sub(y));

    /// <summary>a · b (torch.mul, ONNX Mul).</summary>
    public static Value Mul(Value a, Value b) => Binary(a, b, "Mul", (x, y) => x.mul(y));

    /// <summary>a / b (torch.div, ONNX Div); integers divide as ONNX does, truncating.</summary>
    public static Value Div(Value a, Value b) => Binary(a, b, "Div", (x, y) => x.div(y));

    /// <summary>aᵇ (torch.pow, ONNX Pow).</summary>
    public static Value Pow(Value a, Value b) => Binary(a, b, "Pow", (x, y) => x.pow(y));

    /// <summary>The element-wise minimum (torch.minimum, ONNX Min).</summary>
    public static Value Minimum(Value a, Value b) => Binary(a, b, "Min", minimum);

    /// <summary>The element-wise maximum (torch.maximum, ONNX Max).</summary>
    public static Value Maximum(Value a, Value b) => Binary(a, b, "Max", maximum);

    /// <summary>−x (torch.neg, ONNX Neg).</summary>
    public static Value Neg(Value x) => Unary(x, "Neg", t => t.neg());

    /// <summary>|x| (torch.abs, ONNX Abs).</summary>
    public static Value Abs(Value x) => Unary(x, "Abs", t => t.abs());

    /// <summary>eˣ (torch.exp, ONNX Exp).</summary>
    public static Value Exp(Value x) => FloatUnary(x, "Exp", t => t.exp());

    /// <summary>ln x (torch.log, ONNX Log).</summary>
    public static Value Log(Value x) => FloatUnary(x, "Log", t => t.log());

    /// <summary>√x (torch.sqrt, ONNX Sqrt).</summary>
    public static Value Sqrt(Value x) => FloatUnary(x, "Sqrt", t => t.sqrt());

    /// <summary>1/√x (torch.rsqrt; ONNX has no Rsqrt: Reciprocal of Sqrt).</summary>
    public static Value Rsqrt(Value x) =>
        GraphOf(x) is null ? FloatUnary(x, "Rsqrt", t => t.rsqrt()) : Reciprocal(Sqrt(x));

    /// <summary>1/x (torch.reciprocal, ONNX Reciprocal).</summary>
    public static Value Reciprocal(Value x) => FloatUnary(x, "Reciprocal", t => t.reciprocal());

    /// <summary>The Gauss error function (torch.erf, ONNX Erf).</summary>
    public static Value Erf(Value x) => FloatUnary(x, "Erf", t => t.erf());

    /// <summary>sin x (torch.sin, ONNX Sin).</summary>
    public static Value Sin(Value x) => FloatUnary(x, "Sin", t => t.sin());

    /// <summary>cos x (torch.cos, ONNX Cos).</summary>
    public static Value Cos(Value x) => FloatUnary(x, "Cos", t => t.cos());

    /// <summary>
    /// x limited to [<paramref name="min"/>, <paramref name="max"/>]; either bound may be left out
    /// (torch.clamp, ONNX Clip with bounds as inputs).
    /// </summary>
    public static Value Clamp(Value x, double? min = null, double? max = null)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (min is null && max is null) throw new ArgumentException("clamp needs at least one of min and max");
        if (GraphOf(x) is not { } graph)
            return Eager("Clip", () => min is { } lo && max is { } hi ? x.Tensor.clamp(lo, hi) : min is { } l ? x.Tensor.clamp_min(l) : x.Tensor.clamp_max(max!.Value), x);
        var sx = Lift(graph, x);
        var low = min is { } mn ? Lift(graph, ScalarLike(x, mn)) : null;
        var high = max is { } mx ? Lift(graph, ScalarLike(x, mx)) : null;
        return Value.Symbolic(graph.Node("Clip").Input(sx).OptionalInput(low).OptionalInput(high).Output(sx.ElementType, sx.Shape));
    }

    /// <summary>a &gt; b, a bool value (torch.gt, ONNX Greater).</summary>
    public static Value Greater(Value a, Value b) => Binary(a, b, "Greater", (x, y) => x.gt(y), DataType.Bool);

    /// <summary>a &lt; b, a bool value (torch.lt, ONNX Less).</summary>
    public static Value Less(Value a, Value b) => Binary(a, b, "Less", (x, y) => x.lt(y), DataType.Bool);

    /// <summary>a ≥ b, a bool value (torch.ge, ONNX GreaterOrEqual).</summary>
    public static Value GreaterOrEqual(Value a, Value b) => Binary(a, b, "GreaterOrEqual", (x, y) => x.ge(y), DataType.Bool);

    /// <summary>a ≤ b, a bool value (torch.le, ONNX LessOrEqual).</summary>
    public static Value LessOrEqual(Value a, Value b) => Binary(a, b, "LessOrEqual", (x, y) => x.le(y), DataType.Bool);

    /// <summary>a = b, a bool value (torch.eq, ONNX Equal).</summary>
    public static Value Equal(Value a, Value b) => Binary(a, b, "Equal", (x, y) => x.eq(y), DataType.Bool);

    /// <summary>a and b on bool values (torch.logical_and, ONNX And).</summary>
    public static Value LogicalAnd(Value a, Value b) => BoolBinary(a, b, "And", (x, y) => x.logical_and(y));

    /// <summary>a or b on bool values (torch.logical_or, ONNX Or).</summary>
    public static Value LogicalOr(Value a, Value b) => BoolBinary(a, b, "Or", (x, y) => x.logical_or(y));

    /// <summary>a xor b on bool values (torch.logical_xor, ONNX Xor).</summary>
    public static Value LogicalXor(Value a, Value b) => BoolBinary(a, b, "Xor", (x, y) => x.logical_xor(y));

    /// <summary>not x on a bool value (torch.logical_not, ONNX Not).</summary>
    public static Value LogicalNot(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireType(x, "Not", DataType.Bool, "bool");
        return Unary(x, "Not", t => t.logical_not());
    }

    /// <summary>
    /// <paramref name="condition"/> ? <paramref name="a"/> : <paramref name="b"/>, element-wise with
    /// broadcasting over all three (torch.where, ONNX Where).
    /// </summary>
    public static Value Where(Value condition, Value a, Value b)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        RequireType(condition, "Where", DataType.Bool, "bool");
        if (GraphOf(condition, a, b) is not { } graph) return Eager("Where", () => where(condition.Tensor, a.Tensor, b.Tensor), condition, a, b);
        var (sc, sa, sb) = (Lift(graph, condition), Lift(graph, a), Lift(graph, b));
        RequireSameType(graph, "Where", sa, sb);
        var shape = ShapeInference.Broadcast(graph, "Where", ShapeInference.Broadcast(graph, "Where", sc.Shape, sa.Shape), sb.Shape);
        return Value.Symbolic(graph.Node("Where").Input(sc, sa, sb).Output(sa.ElementType, shape));
    }

    /// <summary>x converted to <paramref name="type"/> (torch's <c>x.to(dtype)</c>, ONNX Cast); floats to integers truncate.</summary>
    public static Value To(Value x, DataType type)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Cast", () => x.Tensor.to(DTypes.ToTorch(type)), x);
        var sx = Lift(graph, x);
        return sx.ElementType == type ? x : Value.Symbolic(graph.Node("Cast").Attribute("to", (long)type).Input(sx).Output(type, sx.Shape));
    }

    private static Value Unary(Value x, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var input = Lift(graph, x);
        return Value.Symbolic(graph.Node(op).Input(input).Output(input.ElementType, input.Shape));
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
        return Value.Symbolic(graph.Node(op).Input(sa, sb).Output(resultType ?? sa.ElementType, shape));
    }

    private static Value BoolBinary(Value a, Value b, string op, Func<Tensor, Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        RequireType(a, op, DataType.Bool, "bool");
        RequireType(b, op, DataType.Bool, "bool");
        return Binary(a, b, op, eager);
    }

    private static void RequireType(Value x, string op, DataType type, string what)
    {
        if (x.ElementType != type) throw Refused(op, $"takes {what} values, got {ElementTypes.Name(x.ElementType)}", x);
    }
}
