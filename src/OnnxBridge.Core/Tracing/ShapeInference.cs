using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Tracing;

/// <summary>
/// Output shapes of the operators we record, with errors that state both shapes. Symbolic
/// dimensions follow ONNX's rules: a named dimension broadcast against 1 stays named; two different
/// names, or a name against a size other than 1, are assumed equal at run time.
/// </summary>
internal static class ShapeInference
{
    /// <summary>Numpy-style multidirectional broadcasting (Add, Sub, Mul, Div).</summary>
    public static Dim[] Broadcast(GraphRecorder graph, string op, IReadOnlyList<Dim> a, IReadOnlyList<Dim> b)
    {
        var rank = Math.Max(a.Count, b.Count);
        var result = new Dim[rank];
        for (int i = 0; i < rank; i++)
        {
            var da = i < rank - a.Count ? Dim.Known(1) : a[i - (rank - a.Count)];
            var db = i < rank - b.Count ? Dim.Known(1) : b[i - (rank - b.Count)];
            result[i] = (da, db) switch
            {
                ({ Size: 1 }, _) => db,
                (_, { Size: 1 }) => da,
                ({ IsKnown: true }, { IsKnown: true }) when da.Size != db.Size =>
                    throw graph.Error($"shapes {Dim.Format(a)} and {Dim.Format(b)} do not broadcast (dimension {i}: {da} vs {db})", op),
                ({ IsKnown: true }, _) => da,
                _ => db.IsKnown ? db : da,
            };
        }
        return result;
    }

    /// <summary>ONNX MatMul (numpy matmul) output shape.</summary>
    public static Dim[] MatMul(GraphRecorder graph, IReadOnlyList<Dim> a, IReadOnlyList<Dim> b)
    {
        if (a.Count == 0 || b.Count == 0)
            throw graph.Error($"MatMul needs tensors of rank >= 1, got {Dim.Format(a)} and {Dim.Format(b)}", "MatMul");
        var left = a.Count == 1 ? new[] { Dim.Known(1), a[0] } : a.ToArray();
        var right = b.Count == 1 ? new[] { b[0], Dim.Known(1) } : b.ToArray();
        var k1 = left[^1];
        var k2 = right[^2];
        if (k1.IsKnown && k2.IsKnown && k1.Size != k2.Size)
            throw graph.Error($"inner dimensions differ: {Dim.Format(a)} x {Dim.Format(b)} ({k1} vs {k2})", "MatMul");
        var batch = Broadcast(graph, "MatMul", left[..^2], right[..^2]);
        var result = new List<Dim>(batch);
        if (a.Count > 1) result.Add(left[^2]);
        if (b.Count > 1) result.Add(right[^1]);
        return [.. result];
    }

    /// <summary>The product of dimensions: known when all are, unknown otherwise.</summary>
    public static Dim Product(IEnumerable<Dim> dims)
    {
        long product = 1;
        foreach (var d in dims)
        {
            if (!d.IsKnown) return Dim.Unknown;
            product *= d.Size!.Value;
        }
        return Dim.Known(product);
    }

    /// <summary>The sum of dimensions: known when all are, unknown otherwise.</summary>
    public static Dim Sum(IEnumerable<Dim> dims)
    {
        long sum = 0;
        foreach (var d in dims)
        {
            if (!d.IsKnown) return Dim.Unknown;
            sum += d.Size!.Value;
        }
        return Dim.Known(sum);
    }

    /// <summary>A reduction's output shape: the reduced axes dropped, or kept as 1.</summary>
    public static Dim[] Reduced(IReadOnlyList<Dim> shape, IReadOnlyCollection<int> axes, bool keepdim) =>
        [.. shape.Select((d, i) => axes.Contains(i) ? (keepdim ? Dim.Known(1) : (Dim?)null) : d).Where(d => d is not null).Select(d => d!.Value)];

    /// <summary>
    /// A convolution's or pooling's output size along <paramref name="axis"/>:
    /// ⌊(size + pads − dilation·(k − 1) − 1) / stride⌋ + 1, or ⌈…⌉ in ceil mode, where the last window
    /// must start inside the input or its left padding (PyTorch's rule); unknown stays unknown.
    /// </summary>
    public static Dim Convolved(GraphRecorder graph, string op, IReadOnlyList<Dim> shape, int axis, long kernel, long stride, long padBegin, long padEnd, long dilation, bool ceil)
    {
        if (!shape[axis].IsKnown) return Dim.Unknown;
        var size = shape[axis].Size!.Value;
        var span = dilation * (kernel - 1) + 1;
        var room = size + padBegin + padEnd - span;
        if (room < 0)
            throw graph.Error($"input {Dim.Format(shape)} is smaller than the window of {kernel}{(dilation > 1 ? $" with dilation {dilation}" : "")} at dimension {axis}{(padBegin + padEnd > 0 ? $", even with padding {padBegin}+{padEnd}" : "")}", op);
        var count = (ceil ? (room + stride - 1) / stride : room / stride) + 1;
        if (ceil && (count - 1) * stride >= size + padBegin) count--;
        return Dim.Known(count);
    }
}
