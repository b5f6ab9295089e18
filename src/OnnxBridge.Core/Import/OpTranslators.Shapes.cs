using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Import;

/// <summary>Shapes, indexing and reductions: the ops whose shape-like operands must be constants.</summary>
internal static partial class OpTranslators
{
    private static void AddShapes(Dictionary<string, Translator> t)
    {
        t["Reshape"] = Reshape;
        t["Flatten"] = Flatten;
        t["Transpose"] = n =>
        {
            var x = n.Input(0);
            return One(Ops.Permute(x, n.Ints("perm") ?? [.. Enumerable.Range(0, x.Rank).Reverse().Select(d => (long)d)]));
        };
        t["Concat"] = n => One(Ops.Cat(n.AllInputs, n.Int("axis", 0)));
        t["Unsqueeze"] = n =>
        {
            var x = n.Input(0);
            var axes = (n.Opset < 13 ? n.Ints("axes") : n.ConstantInts(1)) ?? throw n.Error("axes are required");
            var rank = x.Rank + axes.Length;
            foreach (var axis in axes.Select(a => a < 0 ? a + rank : a).Order()) x = Ops.Unsqueeze(x, axis);
            return One(x);
        };
        t["Squeeze"] = n =>
        {
            var x = n.Input(0);
            var axes = n.Opset < 13 ? n.Ints("axes") : n.ConstantInts(1);
            if (axes is null) return One(Ops.Squeeze(x));
            foreach (var axis in axes.Select(a => a < 0 ? a + x.Rank : a).OrderDescending()) x = Ops.Squeeze(x, axis);
            return One(x);
        };
        t["Shape"] = n =>
        {
            var x = n.Input(0);
            var (start, end) = (n.Int("start", 0), n.Int("end", x.Rank));
            (start, end) = (Math.Clamp(start < 0 ? start + x.Rank : start, 0, x.Rank), Math.Clamp(end < 0 ? end + x.Rank : end, 0, x.Rank));
            var dims = x.Shape.Skip((int)start).Take((int)Math.Max(0, end - start)).ToList();
            // Known sizes fold to a constant even during export; symbolic ones are read at run time.
            if (dims.All(d => d.IsKnown)) return One(Value.Eager(tensor(dims.Select(d => d.Size!.Value).ToArray())));
            return One(Ops.Stack([.. Enumerable.Range((int)start, dims.Count).Select(d => Ops.Size(x, d))]));
        };
        t["Size"] = n =>
        {
            var x = n.Input(0);
            if (x.Shape.All(d => d.IsKnown)) return One(Value.Eager(tensor(x.Shape.Aggregate(1L, (p, d) => p * d.Size!.Value))));
            return One(Enumerable.Range(0, x.Rank).Select(d => Ops.Size(x, d)).Aggregate(Ops.Mul));
        };
        t["ConstantOfShape"] = n =>
        {
            var shape = n.ConstantInts(0) ?? throw n.Error("the shape input is required");
            var fill = n.Attribute("value") is { } a ? TensorConvert.ToTorch(Onnx.Tensors.HostTensor.FromProto(a.T)) : tensor(0f);
            return One(Value.Eager(fill.reshape(1).expand(shape.Length == 0 ? [1] : shape).reshape(shape).clone()));
        };
        t["Gather"] = Gather;
        t["GatherElements"] = n =>
        {
            var (x, index) = (n.Input(0), n.Input(1));
            var axis = n.Int("axis", 0);
            return One(Ops.Gather(x, axis, NonNegative(index, x, axis)));
        };
        t["ScatterElements"] = Scatter;
        t["Scatter"] = Scatter;   // opsets 9-10: ScatterElements under its old name
        t["Slice"] = Slice;
        t["Split"] = Split;
        t["Expand"] = Expand;
        t["Tile"] = n => One(Ops.Repeat(n.Input(0), n.ConstantInts(1) ?? throw n.Error("repeats are required")));
        t["Pad"] = Pad;
        t["ReduceSum"] = n => Reduce(n, (x, d, k) => Ops.Sum(x, d, k), sinceInputAxes: 13);
        t["ReduceMean"] = n => Reduce(n, (x, d, k) => Ops.Mean(x, d, k));
        t["ReduceMax"] = n => Reduce(n, (x, d, k) => Ops.Amax(x, d, k));
        t["ReduceMin"] = n => Reduce(n, (x, d, k) => Ops.Amin(x, d, k));
        t["ReduceProd"] = n => Reduce(n, (x, d, k) => Sequential(x, d, k, Ops.Prod));
        t["ReduceLogSumExp"] = n => Reduce(n, (x, d, k) => Sequential(x, d, k, Ops.LogSumExp));
        t["ReduceSumSquare"] = n => Reduce(n, (x, d, k) => Ops.Sum(x * x, d, k));
        t["ReduceL1"] = n => Reduce(n, (x, d, k) => Ops.Sum(Ops.Abs(x), d, k));
        t["ReduceL2"] = n => Reduce(n, (x, d, k) => Ops.Sqrt(Ops.Sum(x * x, d, k)));
        t["ReduceLogSum"] = n => Reduce(n, (x, d, k) => Ops.Log(Ops.Sum(x, d, k)));
        t["ArgMax"] = n => ArgReduce(n, Ops.ArgMax);
        t["ArgMin"] = n => ArgReduce(n, Ops.ArgMin);
    }

    /// <summary>ONNX Reshape: 0 copies the input's dimension (unless allowzero), −1 is inferred.</summary>
    private static IReadOnlyList<Value> Reshape(NodeContext n)
    {
        var x = n.Input(0);
        var shape = n.ConstantInts(1) ?? throw n.Error("the shape input is required");
        if (n.Int("allowzero", 0) == 0)
        {
            for (int i = 0; i < shape.Length; i++)
            {
                if (shape[i] != 0) continue;
                if (i >= x.Rank) throw n.Error($"shape [{string.Join(", ", shape)}] copies dimension {i} of a rank-{x.Rank} input");
                if (x.Shape[i].Size is { } size) shape[i] = size;
                else return One(CopyingReshape(n, x, shape));
            }
        }
        return One(Ops.Reshape(x, shape));
    }

    /// <summary>
    /// A Reshape that keeps symbolic dimensions (0 copies one) recorded as ONNX writes it, since the op
    /// layer's reshape takes sizes; only during export, where eagerly every dimension is known.
    /// </summary>
    private static Value CopyingReshape(NodeContext n, Value x, long[] shape)
    {
        var graph = Tracing.GraphRecorder.Current ?? throw n.Error("a reshape copying an unknown dimension outside an export");
        var sx = Ops.Lift(graph, x);
        var dims = shape.Select((d, i) => d == 0 ? sx.Shape[i] : d > 0 ? Dim.Known(d) : Dim.Unknown).ToArray();
        var known = dims.Where(d => d.IsKnown).Aggregate(1L, (p, d) => p * d.Size!.Value);
        var total = Tracing.ShapeInference.Product(sx.Shape);
        if (shape.Contains(-1) && total.IsKnown && known > 0) dims[Array.IndexOf(shape, -1L)] = Dim.Known(total.Size!.Value / known);
        return Value.Symbolic(graph.Node("Reshape").Input(sx).ConstantInput(shape).Output(sx.ElementType, dims));
    }

    /// <summary>ONNX Flatten: always 2-D, [product of dims before axis, product of the rest].</summary>
    private static IReadOnlyList<Value> Flatten(NodeContext n)
    {
        var x = n.Input(0);
        var axis = n.Int("axis", 1);
        if (axis < 0) axis += x.Rank;
        if (axis == 0) return One(Ops.Unsqueeze(Ops.Flatten(x, 0, -1), 0));
        if (axis == x.Rank) return One(Ops.Unsqueeze(Ops.Flatten(x, 0, -1), 1));
        var tail = axis < x.Rank - 1 ? Ops.Flatten(x, axis, -1) : x;
        return One(axis > 1 ? Ops.Flatten(tail, 0, axis - 1) : tail);
    }

    /// <summary>ONNX Gather: the index may have any rank and count from the end.</summary>
    private static IReadOnlyList<Value> Gather(NodeContext n)
    {
        var (x, index) = (n.Input(0), n.Input(1));
        var axis = n.Int("axis", 0);
        if (axis < 0) axis += x.Rank;
        index = NonNegative(index, x, axis);
        if (index.Rank == 1) return One(Ops.IndexSelect(x, axis, index));
        if (index.Rank == 0) return One(Ops.Squeeze(Ops.IndexSelect(x, axis, Ops.Unsqueeze(index, 0)), axis));
        // Rows of a matrix by an index of any shape is an embedding lookup, whatever the dimensions.
        if (axis == 0 && x.Rank == 2) return One(Ops.Embedding(index, x));
        n.Require(x.Shape.All(d => d.IsKnown) && index.Shape.All(d => d.IsKnown), "Gather with a multi-dimensional index over symbolic dimensions");
        var picked = Ops.IndexSelect(x, axis, Ops.Reshape(index, -1));
        long[] shape = [.. x.Shape.Take((int)axis).Select(d => d.Size!.Value), .. index.Shape.Select(d => d.Size!.Value), .. x.Shape.Skip((int)axis + 1).Select(d => d.Size!.Value)];
        return One(Ops.Reshape(picked, shape));
    }

    private static IReadOnlyList<Value> Scatter(NodeContext n)
    {
        var (x, index, updates) = (n.Input(0), n.Input(1), n.Input(2));
        var axis = n.Int("axis", 0);
        index = NonNegative(index, x, axis);
        return n.String("reduction", "none") switch
        {
            "none" => One(Ops.Scatter(x, axis, index, updates)),
            "add" => One(Ops.ScatterAdd(x, axis, index, updates)),
            var other => throw n.Error($"reduction '{other}' is not supported; none and add are (PyTorch's scatter and scatter_add)"),
        };
    }

    /// <summary>Indices as int64 with negative ones counted from the end — PyTorch refuses them; ONNX allows them.</summary>
    private static Value NonNegative(Value index, Value x, long axis)
    {
        if (index.ElementType != DataType.Int64) index = Ops.To(index, DataType.Int64);
        if (index.IsSymbolic) return index;
        if (axis < 0) axis += x.Rank;
        var size = x.Shape[(int)axis].Size;
        return size is { } s ? Value.Eager(index.Tensor.lt(0).any().item<bool>() ? where(index.Tensor.lt(0), index.Tensor + s, index.Tensor) : index.Tensor) : index;
    }

    private static IReadOnlyList<Value> Slice(NodeContext n)
    {
        var x = n.Input(0);
        var (starts, ends, axes, steps) = n.Opset < 10
            ? (n.Ints("starts"), n.Ints("ends"), n.Ints("axes"), null)
            : (n.ConstantInts(1), n.ConstantInts(2), n.ConstantInts(3), n.ConstantInts(4));
        if (starts is null || ends is null || starts.Length != ends.Length) throw n.Error("starts and ends of equal length are required");
        axes ??= [.. Enumerable.Range(0, starts.Length).Select(a => (long)a)];
        steps ??= Ones(starts.Length);
        for (int i = 0; i < starts.Length; i++)
        {
            n.Require(steps[i] > 0, $"step {steps[i]} (PyTorch slices with positive steps only)");
            var axis = axes[i] < 0 ? axes[i] + x.Rank : axes[i];
            x = Ops.Slice(x, axis, Math.Max(starts[i], x.Shape[(int)axis].Size is { } s ? -s : starts[i]), ends[i], steps[i]);
        }
        return One(x);
    }

    private static IReadOnlyList<Value> Split(NodeContext n)
    {
        var x = n.Input(0);
        var axis = n.Int("axis", 0);
        if (axis < 0) axis += x.Rank;
        var sizes = n.Opset < 13 ? n.Ints("split") : n.ConstantInts(1);
        if (sizes is null)
        {
            var size = x.Shape[(int)axis].Size ?? throw n.Error($"an equal split of symbolic dimension {axis}");
            var parts = n.Node.Output.Count;
            var each = (size + parts - 1) / parts;
            sizes = [.. Enumerable.Range(0, parts).Select(i => Math.Min(each, size - i * each))];
        }
        return Ops.Split(x, sizes, axis);
    }

    /// <summary>ONNX Expand broadcasts both ways; PyTorch's expand keeps a dimension where the target says 1 (−1).</summary>
    private static IReadOnlyList<Value> Expand(NodeContext n)
    {
        var x = n.Input(0);
        var shape = n.ConstantInts(1) ?? throw n.Error("the shape input is required");
        var rank = Math.Max(x.Rank, shape.Length);
        var sizes = new long[rank];
        for (int i = 0; i < rank; i++)
        {
            var target = i - (rank - shape.Length) is var s and >= 0 ? shape[s] : 1;
            var hasInput = i - (rank - x.Rank) >= 0;
            sizes[i] = target == 1 && hasInput ? -1 : target;
        }
        return One(Ops.Expand(x, sizes));
    }

    /// <summary>ONNX pads [x1_begin, x2_begin, ..., x1_end, ...] (optionally for some axes) as PyTorch's list, last dimension first.</summary>
    private static IReadOnlyList<Value> Pad(NodeContext n)
    {
        var x = n.Input(0);
        var pads = (n.Opset < 11 ? n.Ints("pads") : n.ConstantInts(1)) ?? throw n.Error("pads are required");
        var value = n.Opset < 11 ? n.Float("value", 0) : n.ConstantScalar(2) ?? 0;
        var axes = n.Opset >= 18 ? n.ConstantInts(3) : null;
        axes = axes?.Select(a => a < 0 ? a + x.Rank : a).ToArray() ?? [.. Enumerable.Range(0, x.Rank).Select(a => (long)a)];
        if (pads.Length != 2 * axes.Length) throw n.Error($"{pads.Length} pads for {axes.Length} axes");
        var (begin, end) = (new long[x.Rank], new long[x.Rank]);
        for (int i = 0; i < axes.Length; i++) (begin[axes[i]], end[axes[i]]) = (pads[i], pads[axes.Length + i]);
        var last = Enumerable.Range(0, x.Rank).FirstOrDefault(d => begin[d] != 0 || end[d] != 0, x.Rank);
        var torchPads = Enumerable.Range(last, x.Rank - last).Reverse().SelectMany(d => new[] { begin[d], end[d] }).ToArray();
        if (torchPads.Length == 0) return One(x);
        var mode = n.String("mode", "constant") switch
        {
            "constant" => "constant",
            "reflect" => "reflect",
            "edge" => "replicate",
            "wrap" => "circular",
            var other => throw n.Error($"mode '{other}' is not one of constant, reflect, edge, wrap"),
        };
        return One(Ops.Pad(x, torchPads, mode, value));
    }

    /// <summary>The Reduce* family: axes an attribute before opset 18 (13 for ReduceSum), an input after; keepdims defaults to 1.</summary>
    private static IReadOnlyList<Value> Reduce(NodeContext n, Func<Value, long[], bool, Value> reduce, int sinceInputAxes = 18)
    {
        var x = n.Input(0);
        var axes = n.Opset < sinceInputAxes ? n.Ints("axes") : n.ConstantInts(1);
        var keep = n.Int("keepdims", 1) != 0;
        if (axes is null or { Length: 0 })
        {
            if (n.Int("noop_with_empty_axes", 0) != 0) return One(x);
            axes = [.. Enumerable.Range(0, x.Rank).Select(a => (long)a)];
        }
        return One(reduce(x, axes, keep));
    }

    /// <summary>A one-dimension reduction applied over several dimensions in turn (last first, so the indices stay valid).</summary>
    private static Value Sequential(Value x, long[] dims, bool keep, Func<Value, long, bool, Value> reduce) =>
        dims.Select(d => d < 0 ? d + x.Rank : d).OrderDescending().Aggregate(x, (v, d) => reduce(v, d, keep));

    private static IReadOnlyList<Value> ArgReduce(NodeContext n, Func<Value, long, bool, Value> reduce)
    {
        var (x, axis, keep) = (n.Input(0), n.Int("axis", 0), n.Int("keepdims", 1) != 0);
        if (n.Int("select_last_index", 0) == 0) return One(reduce(x, axis, keep));
        // The last of equal extremes: the first one of the reversed axis, counted back from the end.
        if (axis < 0) axis += x.Rank;
        var size = x.Shape[(int)axis].Size ?? throw n.Error($"select_last_index=1 over symbolic dimension {axis}");
        n.Require(!x.IsSymbolic, "select_last_index=1 during export (the op layer has no reversal to record)");
        var first = reduce(Value.Eager(x.Tensor.flip(axis)), axis, keep);
        return One(Ops.Sub(Ops.ScalarLike(first, size - 1), first));
    }
}
