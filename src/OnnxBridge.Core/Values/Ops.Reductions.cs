using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// Reductions over all or some dimensions, PyTorch's way: the reduced dimensions are dropped unless
/// <c>keepdim</c>. ONNX took the axes as an attribute before opset 13 (ReduceSum) or 18 (the
/// others) and as an input since; the emitter writes the form of the opset being targeted.
/// </summary>
public static partial class Ops
{
    /// <summary>The sum of all elements, a scalar (torch.sum, ONNX ReduceSum).</summary>
    public static Value Sum(Value x) => ReduceAll(x, "ReduceSum", t => t.sum());

    /// <summary>The mean of all elements, a scalar (torch.mean, ONNX ReduceMean).</summary>
    public static Value Mean(Value x) => ReduceAll(x, "ReduceMean", t => t.mean());

    /// <summary>The sum over <paramref name="dims"/> (torch.sum(x, dims, keepdim), ONNX ReduceSum).</summary>
    public static Value Sum(Value x, long[] dims, bool keepdim = false) =>
        Reduce(x, dims, keepdim, "ReduceSum", 13, t => t.sum(dims, keepdim));

    /// <summary>The mean over <paramref name="dims"/> (torch.mean(x, dims, keepdim), ONNX ReduceMean).</summary>
    public static Value Mean(Value x, long[] dims, bool keepdim = false) =>
        Reduce(x, dims, keepdim, "ReduceMean", 18, t => t.mean(dims, keepdim));

    /// <summary>The maximum over <paramref name="dims"/> (torch.amax, ONNX ReduceMax).</summary>
    public static Value Amax(Value x, long[] dims, bool keepdim = false) =>
        Reduce(x, dims, keepdim, "ReduceMax", 18, t => t.amax(dims, keepdim));

    /// <summary>The minimum over <paramref name="dims"/> (torch.amin, ONNX ReduceMin).</summary>
    public static Value Amin(Value x, long[] dims, bool keepdim = false) =>
        Reduce(x, dims, keepdim, "ReduceMin", 18, t => t.amin(dims, keepdim));

    /// <summary>The product along <paramref name="dim"/> (torch.prod(x, dim, keepdim), ONNX ReduceProd).</summary>
    public static Value Prod(Value x, long dim, bool keepdim = false) =>
        Reduce(x, [dim], keepdim, "ReduceProd", 18, t => t.prod(dim, keepdim));

    /// <summary>log Σ eˣ along <paramref name="dim"/>, computed stably (torch.logsumexp, ONNX ReduceLogSumExp).</summary>
    public static Value LogSumExp(Value x, long dim, bool keepdim = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        return Reduce(RequireFloat(x, "ReduceLogSumExp"), [dim], keepdim, "ReduceLogSumExp", 18, t => t.logsumexp(dim, keepdim));
    }

    /// <summary>The index of the first maximum along <paramref name="dim"/>, int64 (torch.argmax, ONNX ArgMax).</summary>
    public static Value ArgMax(Value x, long dim, bool keepdim = false) => ArgReduce(x, dim, keepdim, "ArgMax", t => t.argmax(dim, keepdim));

    /// <summary>The index of the first minimum along <paramref name="dim"/>, int64 (torch.argmin, ONNX ArgMin).</summary>
    public static Value ArgMin(Value x, long dim, bool keepdim = false) => ArgReduce(x, dim, keepdim, "ArgMin", t => t.argmin(dim, keepdim));

    /// <summary>A reduction over all axes to a scalar: no axes given means all axes in every opset we emit.</summary>
    private static Value ReduceAll(Value x, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var input = Lift(graph, x);
        return Value.Symbolic(graph.Node(op).Input(input).Attribute("keepdims", 0).Output(input.ElementType, []));
    }

    private static Value Reduce(Value x, long[] dims, bool keepdim, string op, int axesInputSince, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dims);
        if (dims.Length == 0) throw new ArgumentException($"{op} needs at least one dimension; reduce over all of them with the overload without dims", nameof(dims));
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var sx = Lift(graph, x);
        var axes = Axes(graph, op, dims, sx.Shape.Count);
        var node = graph.Node(op).Input(sx).Axes([.. axes.Select(a => (long)a)], axesInputSince).Attribute("keepdims", keepdim ? 1 : 0);
        return Value.Symbolic(node.Output(sx.ElementType, ShapeInference.Reduced(sx.Shape, axes, keepdim)));
    }

    private static Value ArgReduce(Value x, long dim, bool keepdim, string op, Func<Tensor, Tensor> eager)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager(op, () => eager(x.Tensor), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, op, dim, sx.Shape.Count);
        // select_last_index 0: the first of equal extremes, as PyTorch picks.
        var node = graph.Node(op).Input(sx).Attribute("axis", axis).Attribute("keepdims", keepdim ? 1 : 0).Attribute("select_last_index", 0);
        return Value.Symbolic(node.Output(DataType.Int64, ShapeInference.Reduced(sx.Shape, [axis], keepdim)));
    }
}
