using System.Runtime.InteropServices;
using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Runtime.Parity;

/// <summary>Compares an output against its reference element by element.</summary>
public static class TensorComparer
{
    /// <summary>Compares <paramref name="actual"/> with <paramref name="expected"/> under <paramref name="tolerance"/>.</summary>
    public static OutputParity Compare(string name, HostTensor expected, HostTensor actual, Tolerance tolerance)
    {
        ArgumentNullException.ThrowIfNull(expected);
        ArgumentNullException.ThrowIfNull(actual);
        ArgumentNullException.ThrowIfNull(tolerance);
        if (expected.ElementType != actual.ElementType)
            return Failed(name, expected, $"element type {ElementTypes.Name(actual.ElementType)}, expected {ElementTypes.Name(expected.ElementType)}");
        if (!expected.Shape.SequenceEqual(actual.Shape))
            return Failed(name, expected, $"shape {HostTensor.FormatShape(actual.Shape)}, expected {HostTensor.FormatShape(expected.Shape)}");

        var reference = ToDoubles(expected);
        var values = ToDoubles(actual);
        double maxAbs = 0, maxRel = 0, worstExcess = double.NegativeInfinity;
        long worst = -1, violations = 0;
        for (long i = 0; i < reference.Length; i++)
        {
            var (r, a) = (reference[i], values[i]);
            var diff = r.Equals(a) ? 0 : Math.Abs(a - r); // Equals: NaN equals NaN, and ∞ - ∞ is no error
            if (double.IsNaN(diff) || (double.IsInfinity(r) && !r.Equals(a))) diff = double.PositiveInfinity;
            maxAbs = Math.Max(maxAbs, diff);
            if (Math.Abs(r) >= Math.Max(tolerance.Absolute, double.Epsilon)) maxRel = Math.Max(maxRel, diff / Math.Abs(r));
            var excess = diff - (tolerance.Absolute + tolerance.Relative * Math.Abs(r));
            if (!tolerance.Accepts(r, a)) violations++;
            if (excess > worstExcess)
            {
                worstExcess = excess;
                worst = i;
            }
        }
        return new OutputParity(name, expected.Shape, maxAbs, maxRel, worst, violations, null);
    }

    /// <summary>The elements of a numeric tensor as doubles (exact for every type up to 2^53).</summary>
    public static double[] ToDoubles(HostTensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return tensor.ElementType switch
        {
            DataType.Float => Convert(tensor.AsSpan<float>(), v => v),
            DataType.Double => tensor.ToArray<double>(),
            DataType.Float16 => Convert(tensor.AsSpan<Half>(), v => (double)v),
            DataType.Bfloat16 => Convert(MemoryMarshal.Cast<byte, ushort>(tensor.Bytes.Span), v => BFloat16.ToSingle(v)),
            DataType.Int8 => Convert(tensor.AsSpan<sbyte>(), v => v),
            DataType.Int16 => Convert(tensor.AsSpan<short>(), v => v),
            DataType.Int32 => Convert(tensor.AsSpan<int>(), v => v),
            DataType.Int64 => Convert(tensor.AsSpan<long>(), v => v),
            DataType.Uint8 => Convert(tensor.AsSpan<byte>(), v => v),
            DataType.Uint16 => Convert(tensor.AsSpan<ushort>(), v => v),
            DataType.Uint32 => Convert(tensor.AsSpan<uint>(), v => v),
            DataType.Uint64 => Convert(tensor.AsSpan<ulong>(), v => v),
            DataType.Bool => Convert(tensor.AsSpan<bool>(), v => v ? 1 : 0),
            var other => throw new NotSupportedException($"comparing {ElementTypes.Name(other)} tensors is not supported"),
        };
    }

    private static double[] Convert<T>(ReadOnlySpan<T> values, Func<T, double> convert)
    {
        var result = new double[values.Length];
        for (int i = 0; i < values.Length; i++) result[i] = convert(values[i]);
        return result;
    }

    private static OutputParity Failed(string name, HostTensor expected, string problem) =>
        new(name, expected.Shape, double.PositiveInfinity, double.PositiveInfinity, -1, expected.ElementCount, $"output has {problem}");
}
