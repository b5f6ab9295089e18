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
    public static Value Div(Value a, Value b) =>
        // libtorch's div of integers is true division (a float result); ONNX's keeps the type and truncates.
        Binary(a, b, "Div", (x, y) => x.is_floating_point() ? x.div(y) : x.div(y, RoundingMode.trunc));

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

    /// <summary>tan x (torch.tan, ONNX Tan).</summary>
    public static Value Tan(Value x) => FloatUnary(x, "Tan", t => t.tan());

    /// <summary>arcsin x (torch.asin, ONNX Asin).</summary>
    public static Value Asin(Value x) => FloatUnary(x, "Asin", t => t.asin());

    /// <summary>arccos x (torch.acos, ONNX Acos).</summary>
    public static Value Acos(Value x) => FloatUnary(x, "Acos", t => t.acos());

    /// <summary>arctan x (torch.atan, ONNX Atan).</summary>
    public static Value Atan(Value x) => FloatUnary(x, "Atan", t => t.atan());

    /// <summary>sinh x (torch.sinh, ONNX Sinh).</summary>
    public static Value Sinh(Value x) => FloatUnary(x, "Sinh", t => t.sinh());

    /// <summary>cosh x (torch.cosh, ONNX Cosh).</summary>
    public static Value Cosh(Value x) => FloatUnary(x, "Cosh", t => t.cosh());

    /// <summary>arsinh x (torch.asinh, ONNX Asinh).</summary>
    public static Value Asinh(Value x) => FloatUnary(x, "Asinh", t => t.asinh());

    /// <summary>arcosh x (torch.acosh, ONNX Acosh).</summary>
    public static Value Acosh(Value x) => FloatUnary(x, "Acosh", t => t.acosh());

    /// <summary>artanh x (torch.atanh, ONNX Atanh).</summary>
    public static Value Atanh(Value x) => FloatUnary(x, "Atanh", t => t.atanh());

    /// <summary>⌊x⌋ (torch.floor, ONNX Floor).</summary>
    public static Value Floor(Value x) => FloatUnary(x, "Floor", t => t.floor());

    /// <summary>⌈x⌉ (torch.ceil, ONNX Ceil).</summary>
    public static Value Ceil(Value x) => FloatUnary(x, "Ceil", t => t.ceil());

    /// <summary>x rounded to the nearest integer, halves to even (torch.round, ONNX Round).</summary>
    public static Value Round(Value x) => FloatUnary(x, "Round", t => t.round());

    /// <summary>−1, 0 or 1 by the sign of x (torch.sign, ONNX Sign).</summary>
    public static Value Sign(Value x) => Unary(x, "Sign", t => t.sign());

    /// <summary>
    /// The remainder of a / b: with <paramref name="truncated"/> C's fmod, the sign of a (torch.fmod);
    /// otherwise the sign of b, as Python's % (torch.remainder; integers only in ONNX). ONNX Mod.
    /// </summary>
    public static Value Mod(Value a, Value b, bool truncated)
    {
        ArgumentNullException.ThrowIfNull(a);
        if (!truncated && IsFloating(a.ElementType)) throw Refused("Mod", "a floor remainder of floating-point values has no ONNX form (Mod takes fmod=1 for them); use truncated: true", a, b);
        if (GraphOf(a, b) is not { } graph) return Eager("Mod", () => truncated ? a.Tensor.fmod(b.Tensor) : a.Tensor.remainder(b.Tensor), a, b);
        var (sa, sb) = (Lift(graph, a), Lift(graph, b));
        RequireSameType(graph, "Mod", sa, sb);
        return Value.Symbolic(graph.Node("Mod").Input(sa, sb).Attribute("fmod", truncated ? 1 : 0).Output(sa.ElementType, ShapeInference.Broadcast(graph, "Mod", sa.Shape, sb.Shape)));
    }

    /// <summary>Whether each element is NaN, a bool value (torch.isnan, ONNX IsNaN).</summary>
    public static Value IsNaN(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, "IsNaN");
        if (GraphOf(x) is not { } graph) return Eager("IsNaN", () => x.Tensor.isnan(), x);
        var sx = Lift(graph, x);
        return Value.Symbolic(graph.Node("IsNaN").Input(sx).Output(DataType.Bool, sx.Shape));
    }

    /// <summary>Whether each element is infinite (of the signs asked for), a bool value (torch.isinf, ONNX IsInf).</summary>
    public static Value IsInf(Value x, bool negative = true, bool positive = true)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, "IsInf");
        if (GraphOf(x) is not { } graph)
        {
            return Eager("IsInf", () => (negative, positive) switch
            {
                (true, true) => x.Tensor.isinf(),
                (true, false) => x.Tensor.isneginf(),
                (false, true) => x.Tensor.isposinf(),
                _ => zeros_like(x.Tensor, ScalarType.Bool),
            }, x);
        }
        var sx = Lift(graph, x);
        return Value.Symbolic(graph.Node("IsInf").Input(sx).Attribute("detect_negative", negative ? 1 : 0).Attribute("detect_positive", positive ? 1 : 0).Output(DataType.Bool, sx.Shape));
    }

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
