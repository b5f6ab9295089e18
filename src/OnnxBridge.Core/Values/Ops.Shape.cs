using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Reshaping, reordering, joining, splitting and slicing.</summary>
public static partial class Ops
{
    /// <summary>Keeps the first dimension and flattens the rest into one (torch.flatten(x, 1), ONNX Flatten axis=1).</summary>
    public static Value Flatten(Value x) => Flatten(x, 1, -1);

    /// <summary>
    /// Merges dimensions <paramref name="startDim"/>..<paramref name="endDim"/> into one
    /// (torch.flatten; ONNX Flatten when that is what it means, Reshape otherwise).
    /// </summary>
    public static Value Flatten(Value x, long startDim, long endDim = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Flatten", () => x.Tensor.flatten(startDim, endDim), x);
        var sx = Lift(graph, x);
        if (sx.Shape.Count == 0) return Reshape(x, 1);
        var (start, end) = (Axis(graph, "Flatten", startDim, sx.Shape.Count), Axis(graph, "Flatten", endDim, sx.Shape.Count));
        if (start > end) throw graph.Error($"flatten's start dimension {startDim} comes after its end dimension {endDim}", "Flatten");
        var merged = ShapeInference.Product(sx.Shape.Skip(start).Take(end - start + 1));
        Dim[] shape = [.. sx.Shape.Take(start), merged, .. sx.Shape.Skip(end + 1)];
        if (start == 1 && end == sx.Shape.Count - 1)
            return Value.Symbolic(graph.Node("Flatten").Input(sx).Attribute("axis", 1).Output(sx.ElementType, shape));
        // Dimensions kept around the merged one may be symbolic: the target shape then comes from Shape(x).
        // Dimensions kept around the merged one keep their sizes (from Shape when symbolic); the merged one is inferred when unknown.
        TargetDim[] target = [.. Enumerable.Range(0, start).Select(i => new TargetDim(0, i)), new(merged.Size ?? -1),
                              .. Enumerable.Range(end + 1, sx.Shape.Count - end - 1).Select(i => new TargetDim(0, i))];
        return Value.Symbolic(graph.Node("Reshape").Input(sx, TargetShape(graph, sx, target)).Output(sx.ElementType, shape));
    }

    /// <summary>
    /// Splits dimension <paramref name="dim"/> into <paramref name="sizes"/> (one may be −1), the other
    /// dimensions kept even where symbolic — [batch, seq, E] → [batch, seq, heads, E/heads]
    /// (torch.unflatten, ONNX Reshape).
    /// </summary>
    public static Value Unflatten(Value x, long dim, params long[] sizes)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0 || sizes.Any(s => s < -1) || sizes.Count(s => s == -1) > 1)
            throw Refused("Reshape", $"unflatten takes sizes >= 0 with at most one -1, got [{string.Join(", ", sizes)}]", x);
        if (GraphOf(x) is not { } graph)
        {
            // TorchSharp's unflatten takes no negative dimension.
            var eagerAxis = dim < 0 ? dim + x.Rank : dim;
            if (eagerAxis < 0 || eagerAxis >= x.Rank) throw Refused("Reshape", $"dimension {dim} is out of range for a tensor of rank {x.Rank}", x);
            return Eager("Reshape", () => x.Tensor.unflatten(eagerAxis, sizes), x);
        }
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Reshape", dim, sx.Shape.Count);
        var known = sizes.Where(s => s >= 0).Aggregate(1L, (p, s) => p * s);
        if (sx.Shape[axis].Size is { } whole && (sizes.Contains(-1) ? known == 0 || whole % known != 0 : whole != known))
            throw graph.Error($"cannot unflatten dimension {dim} of {Dim.Format(sx.Shape)} into [{string.Join(", ", sizes)}]", "Reshape");
        var inferred = sx.Shape[axis].Size is { } size && known != 0 ? Dim.Known(size / known) : Dim.Unknown;
        Dim[] shape = [.. sx.Shape.Take(axis), .. sizes.Select(s => s == -1 ? inferred : Dim.Known(s)), .. sx.Shape.Skip(axis + 1)];
        TargetDim[] target = [.. Enumerable.Range(0, axis).Select(i => new TargetDim(0, i)), .. sizes.Select(s => new TargetDim(s)),
                              .. Enumerable.Range(axis + 1, sx.Shape.Count - axis - 1).Select(i => new TargetDim(0, i))];
        var node = graph.Node("Reshape").Input(sx, TargetShape(graph, sx, target));
        if (sizes.Contains(0))
        {
            if (graph.Opset < 14) throw graph.Error("a size of 0 needs Reshape's allowzero (opset 14 or later); export with a newer opset", "Reshape");
            node.Attribute("allowzero", 1);
        }
        return Value.Symbolic(node.Output(sx.ElementType, shape));
    }

    /// <summary>Keeps the first dimension and reshapes the rest to <paramref name="shape"/> (torch reshape, ONNX Reshape with 0 = copy).</summary>
    public static Value ReshapeBatch(Value x, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        var perItem = shape.Aggregate(1L, (p, d) => p * d);
        if (GraphOf(x) is not { } graph)
        {
            var t = x.Tensor;
            var items = t.shape.Skip(1).Aggregate(1L, (p, d) => p * d);
            if (t.dim() < 1 || items != perItem)
                throw Refused("Reshape", $"cannot reshape [{string.Join(", ", t.shape)}] to [batch, {string.Join(", ", shape)}]: {items} elements per item, {perItem} needed", x);
            return Eager("Reshape", () => t.reshape([t.shape[0], .. shape]), x);
        }
        var sx = Lift(graph, x);
        var rest = sx.Shape.Skip(1).ToArray();
        if (sx.Shape.Count < 1 || (rest.All(d => d.IsKnown) && rest.Aggregate(1L, (p, d) => p * d.Size!.Value) != perItem))
            throw graph.Error($"cannot reshape {Dim.Format(sx.Shape)} to [batch, {string.Join(", ", shape)}]", "Reshape");
        Dim[] outShape = [sx.Shape[0], .. shape.Select(Dim.Known)];
        return Value.Symbolic(graph.Node("Reshape").Input(sx).ConstantInput([0, .. shape]).Output(sx.ElementType, outShape));
    }

    /// <summary>
    /// x with the given shape, at most one size −1 (inferred), 0 meaning an empty dimension as in
    /// PyTorch (torch.reshape / view, ONNX Reshape; allowzero=1 when a size is 0, opset 14+).
    /// </summary>
    public static Value Reshape(Value x, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        if (shape.Count(d => d == -1) > 1 || shape.Any(d => d < -1))
            throw Refused("Reshape", $"shape [{string.Join(", ", shape)}] may hold one -1 and otherwise sizes >= 0", x);
        if (GraphOf(x) is not { } graph) return Eager("Reshape", () => x.Tensor.reshape(shape), x);
        var sx = Lift(graph, x);
        var total = ShapeInference.Product(sx.Shape);
        var known = shape.Where(d => d >= 0).Aggregate(1L, (p, d) => p * d);
        Dim inferred = Dim.Unknown;
        if (total.IsKnown)
        {
            var fits = shape.Contains(-1) ? known != 0 && total.Size!.Value % known == 0 : known == total.Size;
            if (!fits) throw graph.Error($"cannot reshape {Dim.Format(sx.Shape)} ({total} elements) to [{string.Join(", ", shape)}]", "Reshape");
            if (shape.Contains(-1)) inferred = Dim.Known(total.Size!.Value / known);
        }
        else if (shape.Contains(-1) && sx.Shape.Count(d => !d.IsKnown) == 1
                 && sx.Shape.Where(d => d.IsKnown).Aggregate(1L, (p, d) => p * d.Size!.Value) == known)
        {
            // [batch, 64] → [-1, 1, 8, 8]: the known sizes match, so −1 is the one symbolic dimension
            // (and the exported batch dimension stays named, as Triton's batching needs).
            inferred = sx.Shape.Single(d => !d.IsKnown);
        }
        var node = graph.Node("Reshape").Input(sx).ConstantInput(shape);
        if (shape.Contains(0))
        {
            if (graph.Opset < 14) throw graph.Error("a size of 0 needs Reshape's allowzero (opset 14 or later); export with a newer opset", "Reshape");
            node.Attribute("allowzero", 1);
        }
        return Value.Symbolic(node.Output(sx.ElementType, [.. shape.Select(d => d == -1 ? inferred : Dim.Known(d))]));
    }

    /// <summary>x with dimensions <paramref name="dim0"/> and <paramref name="dim1"/> swapped (torch.transpose, ONNX Transpose).</summary>
    public static Value Transpose(Value x, long dim0, long dim1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Transpose", () => x.Tensor.transpose(dim0, dim1), x);
        var rank = Lift(graph, x).Shape.Count;
        var perm = Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        var (a, b) = (Axis(graph, "Transpose", dim0, rank), Axis(graph, "Transpose", dim1, rank));
        (perm[a], perm[b]) = (perm[b], perm[a]);
        return Permute(x, perm);
    }

    /// <summary>x with its dimensions in the order <paramref name="dims"/> (torch.permute, ONNX Transpose).</summary>
    public static Value Permute(Value x, params long[] dims)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(dims);
        if (GraphOf(x) is not { } graph) return Eager("Transpose", () => x.Tensor.permute(dims), x);
        var sx = Lift(graph, x);
        var perm = dims.Select(d => (long)Axis(graph, "Transpose", d, sx.Shape.Count)).ToArray();
        if (perm.Length != sx.Shape.Count || perm.Distinct().Count() != perm.Length)
            throw graph.Error($"permutation [{string.Join(", ", dims)}] must name each of the {sx.Shape.Count} dimensions of {Dim.Format(sx.Shape)} once", "Transpose");
        return Value.Symbolic(graph.Node("Transpose").Input(sx).Attribute("perm", perm).Output(sx.ElementType, [.. perm.Select(p => sx.Shape[(int)p])]));
    }

    /// <summary>
    /// x without dimension <paramref name="dim"/> if its size is 1, unchanged otherwise, as PyTorch
    /// (torch.squeeze(x, dim), ONNX Squeeze). At export the size must be known.
    /// </summary>
    public static Value Squeeze(Value x, long dim)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Squeeze", () => x.Tensor.squeeze(dim), x);
        var sx = Lift(graph, x);
        if (sx.Shape.Count == 0) return x;
        var axis = Axis(graph, "Squeeze", dim, sx.Shape.Count);
        if (!sx.Shape[axis].IsKnown)
            throw graph.Error($"dimension {dim} of {Dim.Format(sx.Shape)} has a size unknown at export; PyTorch squeezes it only if it is 1 and ONNX Squeeze fails otherwise, so give it a known size", "Squeeze");
        return sx.Shape[axis].Size != 1 ? x : SqueezeAxes(graph, sx, [axis]);
    }

    /// <summary>x without its dimensions of size 1 (torch.squeeze(x), ONNX Squeeze); at export, dimensions of unknown size are kept.</summary>
    public static Value Squeeze(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Squeeze", () => x.Tensor.squeeze(), x);
        var sx = Lift(graph, x);
        var axes = Enumerable.Range(0, sx.Shape.Count).Where(i => sx.Shape[i].Size == 1).ToArray();
        return axes.Length == 0 ? x : SqueezeAxes(graph, sx, axes);
    }

    /// <summary>x with a dimension of size 1 inserted at <paramref name="dim"/> (torch.unsqueeze, ONNX Unsqueeze).</summary>
    public static Value Unsqueeze(Value x, long dim)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Unsqueeze", () => x.Tensor.unsqueeze(dim), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Unsqueeze", dim, sx.Shape.Count + 1);
        Dim[] shape = [.. sx.Shape.Take(axis), Dim.Known(1), .. sx.Shape.Skip(axis)];
        return Value.Symbolic(graph.Node("Unsqueeze").Input(sx).ConstantInput(axis).Output(sx.ElementType, shape));
    }

    /// <summary>The values joined along <paramref name="dim"/>, an existing dimension (torch.cat, ONNX Concat).</summary>
    public static Value Cat(IReadOnlyList<Value> values, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("cat needs at least one value", nameof(values));
        if (GraphOf([.. values]) is not { } graph) return Eager("Concat", () => cat(values.Select(v => v.Tensor).ToArray(), dim), [.. values]);
        var inputs = values.Select(v => Lift(graph, v)).ToArray();
        var first = inputs[0];
        var axis = Axis(graph, "Concat", dim, first.Shape.Count);
        var shape = first.Shape.ToArray();
        foreach (var other in inputs.Skip(1))
        {
            RequireSameType(graph, "Concat", first, other);
            if (other.Shape.Count != first.Shape.Count)
                throw graph.Error($"cat joins tensors of one rank: {Dim.Format(first.Shape)} and {Dim.Format(other.Shape)}", "Concat");
            for (int i = 0; i < shape.Length; i++)
            {
                if (i == axis) continue;
                if (shape[i].IsKnown && other.Shape[i].IsKnown && shape[i] != other.Shape[i])
                    throw graph.Error($"cat along dimension {dim} needs the other dimensions equal: {Dim.Format(first.Shape)} and {Dim.Format(other.Shape)}", "Concat");
                if (!shape[i].IsKnown && other.Shape[i].IsKnown) shape[i] = other.Shape[i];
            }
        }
        shape[axis] = ShapeInference.Sum(inputs.Select(i => i.Shape[axis]));
        return Value.Symbolic(graph.Node("Concat").Input(inputs).Attribute("axis", axis).Output(first.ElementType, shape));
    }

    /// <summary>The values stacked along a new dimension <paramref name="dim"/> (torch.stack; ONNX Unsqueeze each, then Concat).</summary>
    public static Value Stack(IReadOnlyList<Value> values, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0) throw new ArgumentException("stack needs at least one value", nameof(values));
        if (GraphOf([.. values]) is null) return Eager("Stack", () => stack(values.Select(v => v.Tensor).ToArray(), dim), [.. values]);
        return Cat([.. values.Select(v => Unsqueeze(v, dim))], dim);
    }

    /// <summary>
    /// x cut along <paramref name="dim"/> into pieces of the given sizes, which must add up to the
    /// dimension (torch.split with a list, ONNX Split with sizes as an input).
    /// </summary>
    public static Value[] Split(Value x, long[] sizes, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length == 0 || sizes.Any(s => s < 0)) throw Refused("Split", $"split sizes [{string.Join(", ", sizes)}] must be one or more sizes >= 0", x);
        if (GraphOf(x) is not { } graph) return EagerMany("Split", () => x.Tensor.split(sizes, dim), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Split", dim, sx.Shape.Count);
        if (sx.Shape[axis] is { IsKnown: true } size && sizes.Sum() != size.Size)
            throw graph.Error($"split sizes [{string.Join(", ", sizes)}] add up to {sizes.Sum()}, but dimension {dim} of {Dim.Format(sx.Shape)} is {size}", "Split");
        var outputs = sizes.Select(s => (sx.ElementType, (IReadOnlyList<Dim>)[.. sx.Shape.Take(axis), Dim.Known(s), .. sx.Shape.Skip(axis + 1)])).ToArray();
        return [.. graph.Node("Split").Input(sx).ConstantInput(sizes).Attribute("axis", axis).Outputs(outputs).Select(Value.Symbolic)];
    }

    /// <summary>x cut along <paramref name="dim"/> into pieces of <paramref name="splitSize"/>, the last one smaller if need be (torch.split with a size).</summary>
    public static Value[] Split(Value x, long splitSize, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (splitSize <= 0) throw Refused("Split", $"split size {splitSize} must be positive", x);
        var length = KnownSize(x, dim, "Split");
        var sizes = new List<long>();
        for (long offset = 0; offset < length; offset += splitSize) sizes.Add(Math.Min(splitSize, length - offset));
        return Split(x, sizes.Count == 0 ? [0] : [.. sizes], dim);
    }

    /// <summary>x cut along <paramref name="dim"/> into at most <paramref name="chunks"/> pieces of ⌈size/chunks⌉ (torch.chunk).</summary>
    public static Value[] Chunk(Value x, long chunks, long dim = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (chunks <= 0) throw Refused("Split", $"chunk count {chunks} must be positive", x);
        var length = KnownSize(x, dim, "Split");
        return Split(x, Math.Max(1, (length + chunks - 1) / chunks), dim);
    }

    /// <summary>
    /// <c>x[..., start:end:step, ...]</c> along <paramref name="dim"/>, with Python's rules: negative
    /// indices count from the end, out-of-range ones are clamped; the step is positive (torch slicing, ONNX Slice).
    /// </summary>
    public static Value Slice(Value x, long dim, long start = 0, long end = long.MaxValue, long step = 1)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (step <= 0) throw Refused("Slice", $"slice step {step} must be positive (PyTorch has no negative steps)", x);
        if (GraphOf(x) is not { } graph) return Eager("Slice", () => x.Tensor.slice(dim, start, end, step), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Slice", dim, sx.Shape.Count);
        var size = sx.Shape[axis] is { IsKnown: true } known ? Dim.Known(SliceLength(known.Size!.Value, start, end, step)) : Dim.Unknown;
        Dim[] shape = [.. sx.Shape.Take(axis), size, .. sx.Shape.Skip(axis + 1)];
        return Value.Symbolic(graph.Node("Slice").Input(sx).ConstantInput(start).ConstantInput(end).ConstantInput(axis).ConstantInput(step).Output(sx.ElementType, shape));
    }

    /// <summary><paramref name="length"/> elements of <paramref name="dim"/> from <paramref name="start"/>, which must lie inside it (torch.narrow, ONNX Slice).</summary>
    public static Value Narrow(Value x, long dim, long start, long length)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Slice", () => x.Tensor.narrow(dim, start, length), x);
        var sx = Lift(graph, x);
        var axis = Axis(graph, "Slice", dim, sx.Shape.Count);
        if (length < 0 || (sx.Shape[axis] is { IsKnown: true } size && (start < -size.Size || start > size.Size || (start < 0 ? start + size.Size!.Value : start) + length > size.Size)))
            throw graph.Error($"narrow({dim}, {start}, {length}) does not fit in {Dim.Format(sx.Shape)}", "Slice");
        if (start < 0 && !sx.Shape[axis].IsKnown) throw graph.Error($"narrow from a negative start needs dimension {dim} known", "Slice");
        var from = start < 0 ? start + sx.Shape[axis].Size!.Value : start;
        return Slice(x, dim, from, from + length);
    }

    /// <summary>
    /// x broadcast to <paramref name="sizes"/>, −1 keeping a dimension (torch expand; ONNX Expand, with
    /// −1 written as 1, which ONNX's broadcasting also keeps).
    /// </summary>
    public static Value Expand(Value x, params long[] sizes)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(sizes);
        if (sizes.Length < x.Rank) throw Refused("Expand", $"expand to [{string.Join(", ", sizes)}] gives fewer dimensions than {Dim.Format(x.Shape)} has", x);
        if (GraphOf(x) is not { } graph) return Eager("Expand", () => x.Tensor.expand(sizes), x);
        var sx = Lift(graph, x);
        var offset = sizes.Length - sx.Shape.Count;
        var shape = new Dim[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            var own = i >= offset ? sx.Shape[i - offset] : Dim.Known(1);
            if (sizes[i] == -1 && i < offset) throw graph.Error($"expand cannot keep (-1) the new leading dimension {i}", "Expand");
            if (sizes[i] != -1 && own.IsKnown && own.Size != 1 && own.Size != sizes[i])
                throw graph.Error($"cannot expand {Dim.Format(sx.Shape)} to [{string.Join(", ", sizes)}]: dimension {i} is {own}", "Expand");
            shape[i] = sizes[i] == -1 ? own : Dim.Known(sizes[i]);
        }
        return Value.Symbolic(graph.Node("Expand").Input(sx).ConstantInput([.. sizes.Select(s => s == -1 ? 1L : s)]).Output(sx.ElementType, shape));
    }

    /// <summary>x tiled <paramref name="repeats"/> times along each dimension; more repeats than dimensions add leading ones (torch repeat, ONNX Tile).</summary>
    public static Value Repeat(Value x, params long[] repeats)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(repeats);
        if (repeats.Length < x.Rank || repeats.Any(r => r < 0))
            throw Refused("Tile", $"repeat [{string.Join(", ", repeats)}] needs one non-negative count for each of the {x.Rank} dimensions (or more)", x);
        if (GraphOf(x) is not { } graph) return Eager("Tile", () => x.Tensor.repeat(repeats), x);
        var lifted = x;
        for (int i = x.Rank; i < repeats.Length; i++) lifted = Unsqueeze(lifted, 0);
        var sx = Lift(graph, lifted);
        var shape = sx.Shape.Select((d, i) => d.IsKnown ? Dim.Known(d.Size!.Value * repeats[i]) : Dim.Unknown).ToArray();
        return Value.Symbolic(graph.Node("Tile").Input(sx).ConstantInput(repeats).Output(sx.ElementType, shape));
    }

    private static Value SqueezeAxes(GraphRecorder graph, SymbolicTensor sx, int[] axes)
    {
        Dim[] shape = [.. sx.Shape.Where((_, i) => !axes.Contains(i))];
        return Value.Symbolic(graph.Node("Squeeze").Input(sx).ConstantInput([.. axes.Select(a => (long)a)]).Output(sx.ElementType, shape));
    }

    /// <summary>The size of <paramref name="dim"/>, which split and chunk need known (at export too).</summary>
    private static long KnownSize(Value x, long dim, string op)
    {
        var rank = x.Rank;
        var axis = dim < 0 ? dim + rank : dim;
        if (axis < 0 || axis >= rank) throw Refused(op, $"dimension {dim} is out of range for a tensor of rank {rank}", x);
        return x.Shape[(int)axis].Size ?? throw Refused(op, $"dimension {dim} of {Dim.Format(x.Shape)} must have a known size to be split", x);
    }

    /// <summary>len(range(n)[start:end:step]) for a positive step.</summary>
    private static long SliceLength(long n, long start, long end, long step)
    {
        static long Clamp(long i, long n) => i < 0 ? Math.Max(0, i + n) : Math.Min(i, n);
        var (s, e) = (Clamp(start, n), Clamp(end, n));
        return e <= s ? 0 : (e - s + step - 1) / step;
    }

    /// <summary>One size of a Reshape target: a constant (−1: inferred), or, when <see cref="Source"/> ≥ 0, the size of that input dimension.</summary>
    private readonly record struct TargetDim(long Size, int Source = -1);

    /// <summary>
    /// The int64 target shape for a Reshape: one constant when every size is known, else a Concat of
    /// constants and the input's own sizes (sliced from Shape) for the symbolic dimensions it keeps.
    /// </summary>
    private static SymbolicTensor TargetShape(GraphRecorder graph, SymbolicTensor x, IReadOnlyList<TargetDim> dims)
    {
        long? ConstantOf(TargetDim d) => d.Source < 0 ? d.Size : x.Shape[d.Source].Size;
        if (dims.All(d => ConstantOf(d) is not null))
            return graph.Constant(HostTensor.Create<long>([.. dims.Select(d => ConstantOf(d)!.Value)], dims.Count));
        var sizes = graph.Node("Shape").Input(x).Output(DataType.Int64, [Dim.Known(x.Shape.Count)]);
        var pieces = dims.Select(d => ConstantOf(d) is { } size
            ? graph.Constant(HostTensor.Create<long>([size], 1))
            : graph.Node("Slice").Input(sizes).ConstantInput(d.Source).ConstantInput(d.Source + 1).Output(DataType.Int64, [Dim.Known(1)]));
        return graph.Node("Concat").Input([.. pieces]).Attribute("axis", 0).Output(DataType.Int64, [Dim.Known(dims.Count)]);
    }
}
