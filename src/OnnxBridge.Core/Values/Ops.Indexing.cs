using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Looking up rows and elements by index.</summary>
public static partial class Ops
{
    /// <summary>
    /// The rows of <paramref name="weight"/> [num_embeddings, dim] at the integer
    /// <paramref name="indices"/>, shaped [..indices, dim] (torch embedding, ONNX Gather axis 0). The
    /// row at <paramref name="paddingIndex"/> gets no gradient, as in PyTorch.
    /// </summary>
    public static Value Embedding(Value indices, Value weight, long? paddingIndex = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(weight);
        if (indices.ElementType is not (DataType.Int64 or DataType.Int32))
            throw Refused("Gather", $"embedding indices must be int64 or int32, got {ElementTypes.Name(indices.ElementType)}", indices);
        if (GraphOf(indices, weight) is not { } graph)
        {
            return Eager("Gather", () =>
            {
                var rows = weight.Tensor;
                if (paddingIndex is { } pad)
                {
                    // The padding row's value, cut off from autograd: PyTorch gives it no gradient.
                    var isPad = arange(rows.shape[0], device: rows.device).eq(pad < 0 ? pad + rows.shape[0] : pad).unsqueeze(1);
                    rows = where(isPad, rows.detach(), rows);
                }
                var flat = rows.index_select(0, indices.Tensor.flatten().to(ScalarType.Int64));
                return flat.reshape([.. indices.Tensor.shape, rows.shape[1]]);
            }, indices, weight);
        }
        var (si, sw) = (Lift(graph, indices), Lift(graph, weight));
        if (sw.Shape.Count != 2) throw graph.Error($"the embedding weight must be [num_embeddings, dim], got {Dim.Format(sw.Shape)}", "Gather");
        return Value.Symbolic(graph.Node("Gather").Input(sw, si).Attribute("axis", 0).Output(sw.ElementType, [.. si.Shape, sw.Shape[1]]));
    }

    /// <summary>
    /// Elements of <paramref name="x"/> picked along <paramref name="dim"/> by <paramref name="index"/>,
    /// an int64 tensor of x's rank: out[i][j] = x[index[i][j]][j] for dim 0 (torch.gather, ONNX GatherElements).
    /// </summary>
    public static Value Gather(Value x, long dim, Value index)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(index);
        RequireType(index, "GatherElements", DataType.Int64, "int64 index");
        if (GraphOf(x, index) is not { } graph) return Eager("GatherElements", () => x.Tensor.gather(dim, index.Tensor), x, index);
        var (sx, si) = (Lift(graph, x), Lift(graph, index));
        if (si.Shape.Count != sx.Shape.Count) throw graph.Error($"gather's index {Dim.Format(si.Shape)} must have the rank of the input {Dim.Format(sx.Shape)}", "GatherElements");
        var axis = Axis(graph, "GatherElements", dim, sx.Shape.Count);
        return Value.Symbolic(graph.Node("GatherElements").Input(sx, si).Attribute("axis", axis).Output(sx.ElementType, si.Shape));
    }

    /// <summary>
    /// <paramref name="x"/> with the elements of <paramref name="src"/> written where
    /// <paramref name="index"/> (int64, of x's rank, nowhere larger than src) points along <paramref name="dim"/>:
    /// out[index[i][j]][j] = src[i][j] for dim 0 (torch.scatter, ONNX ScatterElements).
    /// </summary>
    public static Value Scatter(Value x, long dim, Value index, Value src) => Scatter(x, dim, index, src, add: false);

    /// <summary>As <see cref="Scatter(Value, long, Value, Value)"/>, but adding into x, duplicate indices summed (torch.scatter_add; ONNX ScatterElements with reduction "add", opset 16 or later).</summary>
    public static Value ScatterAdd(Value x, long dim, Value index, Value src) => Scatter(x, dim, index, src, add: true);

    private static Value Scatter(Value x, long dim, Value index, Value src, bool add)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(src);
        var what = add ? "scatter_add" : "scatter";
        RequireType(index, "ScatterElements", DataType.Int64, "int64 index");
        if (src.ElementType != x.ElementType) throw Refused("ScatterElements", $"{what} writes {ElementTypes.Name(src.ElementType)} values into a {ElementTypes.Name(x.ElementType)} tensor; cast one first", x, src);
        if (index.Rank != x.Rank || src.Rank != x.Rank)
            throw Refused("ScatterElements", $"{what} takes an index and values of the input's rank, got input {Dim.Format(x.Shape)}, index {Dim.Format(index.Shape)}, values {Dim.Format(src.Shape)}", x, index, src);
        if (GraphOf(x, index, src) is not { } graph)
            return Eager("ScatterElements", () => add ? x.Tensor.scatter_add(dim, index.Tensor, src.Tensor) : x.Tensor.scatter(dim, index.Tensor, src.Tensor), x, index, src);
        if (add && graph.Opset < 16) throw graph.Error("scatter_add needs ScatterElements' reduction (opset 16 or later); export with a newer opset", "ScatterElements");
        var (sx, si, ss) = (Lift(graph, x), Lift(graph, index), Lift(graph, src));
        var axis = Axis(graph, "ScatterElements", dim, sx.Shape.Count);
        // ONNX writes every element of the values, so they must have the index's shape (PyTorch reads only the index's extent).
        if (!si.Shape.SequenceEqual(ss.Shape))
            throw graph.Error($"{what}'s values {Dim.Format(ss.Shape)} must have the index's shape {Dim.Format(si.Shape)} to export", "ScatterElements");
        var node = graph.Node("ScatterElements").Input(sx, si, ss).Attribute("axis", axis);
        if (add) node.Attribute("reduction", "add");
        return Value.Symbolic(node.Output(sx.ElementType, sx.Shape));
    }

    /// <summary>The slices of <paramref name="x"/> at the int64 indices <paramref name="index"/> (1-D) along <paramref name="dim"/> (torch.index_select, ONNX Gather).</summary>
    public static Value IndexSelect(Value x, long dim, Value index)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(index);
        RequireType(index, "Gather", DataType.Int64, "int64 index");
        if (index.Rank != 1) throw Refused("Gather", $"index_select takes a 1-D index, got {Dim.Format(index.Shape)}", index);
        if (GraphOf(x, index) is not { } graph) return Eager("Gather", () => x.Tensor.index_select(dim, index.Tensor), x, index);
        var (sx, si) = (Lift(graph, x), Lift(graph, index));
        var axis = Axis(graph, "Gather", dim, sx.Shape.Count);
        Dim[] shape = [.. sx.Shape.Take(axis), si.Shape[0], .. sx.Shape.Skip(axis + 1)];
        return Value.Symbolic(graph.Node("Gather").Input(sx, si).Attribute("axis", axis).Output(sx.ElementType, shape));
    }

    /// <summary>The size of dimension <paramref name="dim"/> as an int64 scalar value on x's device — known at run time even where symbolic at export (ONNX Shape, Gather).</summary>
    public static Value Size(Value x, long dim)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Value.Eager(tensor(x.Tensor.shape[(int)(dim < 0 ? dim + x.Rank : dim)], device: x.Tensor.device));
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Shape", dim, sx.Shape.Count);
        if (sx.Shape[axis] is { IsKnown: true } known) return Value.Symbolic(graph.Constant(HostTensor.Create([known.Size!.Value])));
        var shape = graph.Node("Shape").Input(sx).Output(DataType.Int64, [Dim.Known(sx.Shape.Count)]);
        var index = graph.Constant(HostTensor.Create([(long)axis]));
        return Value.Symbolic(graph.Node("Gather").Input(shape, index).Attribute("axis", 0).Output(DataType.Int64, []));
    }

    /// <summary>0, 1, …, end − 1 for an int64 scalar <paramref name="end"/> (e.g. <see cref="Size"/>), as int64 on end's device (torch.arange, ONNX Range).</summary>
    public static Value Arange(Value end)
    {
        ArgumentNullException.ThrowIfNull(end);
        RequireType(end, "Range", DataType.Int64, "an int64 scalar");
        if (end.Rank != 0) throw Refused("Range", $"arange takes a scalar end, got {Dim.Format(end.Shape)}", end);
        if (GraphOf(end) is not { } graph) return Eager("Range", () => arange(end.Tensor.item<long>(), ScalarType.Int64, end.Tensor.device), end);
        var length = end.IsSymbolic ? Dim.Unknown : Dim.Known(end.Tensor.item<long>());
        // Range takes scalars: HostTensor.Create without a shape is one.
        var zero = graph.Constant(HostTensor.Create([0L]));
        var one = graph.Constant(HostTensor.Create([1L]));
        return Value.Symbolic(graph.Node("Range").Input(zero, Lift(graph, end), one).Output(DataType.Int64, [length]));
    }

    /// <summary>A tensor of x's shape and type filled with <paramref name="value"/> (torch.full_like, zeros_like, ones_like; ONNX ConstantOfShape of Shape).</summary>
    public static Value FullLike(Value x, double value)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("ConstantOfShape", () => full_like(x.Tensor, value), x);
        var sx = Lift(graph, x);
        var shape = graph.Node("Shape").Input(sx).Output(DataType.Int64, [Dim.Known(sx.Shape.Count)]);
        // ConstantOfShape's value is a one-element 1-D tensor.
        var fill = Filled(graph, "ConstantOfShape", x.ElementType, [1], value);
        return Value.Symbolic(graph.Node("ConstantOfShape").Input(shape).Attribute("value", fill).Output(sx.ElementType, sx.Shape));
    }

    /// <summary>zeros_like.</summary>
    public static Value ZerosLike(Value x) => FullLike(x, 0);

    /// <summary>ones_like.</summary>
    public static Value OnesLike(Value x) => FullLike(x, 1);
}
