using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// The operations a forward can use. Each one computes with TorchSharp when its operands are eager
/// and records the matching ONNX node (with shape inference) when any operand is symbolic; an eager
/// operand of a recorded op becomes an initializer (parameters, buffers) or a Constant node. Each
/// operation is defined once, eager computation beside ONNX emission, in the file of its family:
/// <c>Ops.Elementwise</c>, <c>Ops.Activations</c>, <c>Ops.Reductions</c>, <c>Ops.LinearAlgebra</c>,
/// <c>Ops.Shape</c>, <c>Ops.Convolution</c>, <c>Ops.Pooling</c>, <c>Ops.Normalization</c>.
/// </summary>
/// <remarks>
/// Conventions are PyTorch's: dimensions may be negative (counted from the end); reductions drop
/// the reduced dimensions unless <c>keepdim</c>. Element types are not promoted: both operands of a
/// binary op must have the same type (a C# number takes the value's type), and the floating-point
/// functions (exp, log, sigmoid, ...) take floating-point values — cast with <see cref="Value.To"/>.
/// </remarks>
public static partial class Ops
{
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

    /// <summary>A scalar with the element type (and device) of <paramref name="like"/>.</summary>
    internal static Value ScalarLike(Value like, double value) => Scalar(like, like.ElementType, value);

    /// <summary>A scalar of <paramref name="type"/> on the device (or in the graph) of <paramref name="context"/>.</summary>
    internal static Value Scalar(Value context, DataType type, double value)
    {
        if (!context.IsSymbolic) return Value.Eager(tensor(value, DTypes.ToTorch(type), context.Tensor.device));
        var graph = context.Symbol.Graph;
        return Value.Symbolic(graph.Constant(Filled(graph, "Constant", type, [], value)));
    }

    /// <summary>A constant of <paramref name="shape"/> (empty: a scalar) and <paramref name="type"/> holding <paramref name="value"/>, for emitted graphs.</summary>
    private static HostTensor Filled(GraphRecorder graph, string op, DataType type, long[] shape, double value)
    {
        var count = (int)shape.Aggregate(1L, (p, d) => p * d);
        return type switch
        {
            DataType.Float => HostTensor.Create<float>([.. Enumerable.Repeat((float)value, count)], shape),
            DataType.Double => HostTensor.Create<double>([.. Enumerable.Repeat(value, count)], shape),
            DataType.Float16 => HostTensor.Create<Half>([.. Enumerable.Repeat((Half)value, count)], shape),
            DataType.Bfloat16 => HostTensor.FromBytes(DataType.Bfloat16, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes<ushort>([.. Enumerable.Repeat(BFloat16.FromSingle((float)value), count)])),
            DataType.Int64 => HostTensor.Create<long>([.. Enumerable.Repeat((long)value, count)], shape),
            DataType.Int32 => HostTensor.Create<int>([.. Enumerable.Repeat((int)value, count)], shape),
            DataType.Bool => HostTensor.Create<bool>([.. Enumerable.Repeat(value != 0, count)], shape),
            var other => throw graph.Error($"constants of {ElementTypes.Name(other)} values are not supported here", op),
        };
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

    /// <summary>As <see cref="Eager"/> for an op with several results (split, chunk).</summary>
    internal static Value[] EagerMany(string op, Func<Tensor[]> compute, params Value?[] operands)
    {
        Tensor[] results = [];
        Eager(op, () => (results = compute()).Length > 0 ? results[0] : operands[0]!.Tensor, operands);
        return [.. results.Select(Value.Eager)];
    }

    /// <summary>
    /// The error for operands an op does not take (a type, a dimension out of range), the same in
    /// both modes: an <see cref="Export.ExportException"/> while recording, a
    /// <see cref="Blocks.ForwardException"/> (block path added on the way out) when eager.
    /// </summary>
    private static Exception Refused(string op, string problem, params Value?[] operands) =>
        GraphOf(operands) is { } graph
            ? graph.Error(problem, op)
            : new Blocks.ForwardException(op, [.. operands.Where(o => o is not null).Select(o => Dim.Format(o!.Shape))], problem, null);

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

    /// <summary>Returns <paramref name="x"/> if it holds floating-point values; refuses it otherwise, naming the op.</summary>
    private static Value RequireFloat(Value x, string op) =>
        IsFloating(x.ElementType) ? x
            : throw Refused(op, $"takes floating-point values, got {ElementTypes.Name(x.ElementType)}; convert first with x.To(DataType.Float)", x);

    /// <summary>Whether <paramref name="type"/> is a floating-point element type.</summary>
    private static bool IsFloating(DataType type) => type is DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16;

    /// <summary>A dimension index in [0, rank): negative ones count from the end, as in PyTorch.</summary>
    private static int Axis(GraphRecorder graph, string op, long dim, int rank)
    {
        var axis = dim < 0 ? dim + rank : dim;
        return axis >= 0 && axis < Math.Max(rank, 1) ? (int)axis
            : throw graph.Error($"dimension {dim} is out of range for a tensor of rank {rank} (expected {-Math.Max(rank, 1)}..{Math.Max(rank, 1) - 1})", op);
    }

    /// <summary>Several dimensions normalized, sorted, each once.</summary>
    private static int[] Axes(GraphRecorder graph, string op, IEnumerable<long> dims, int rank)
    {
        var axes = dims.Select(d => Axis(graph, op, d, rank)).ToArray();
        if (axes.Distinct().Count() != axes.Length) throw graph.Error($"dimension list [{string.Join(", ", dims)}] names a dimension twice", op);
        return [.. axes.Order()];
    }
}
