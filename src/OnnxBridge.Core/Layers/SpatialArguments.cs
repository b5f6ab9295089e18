namespace OnnxBridge.Core.Layers;

/// <summary>PyTorch's int-or-tuple arguments of convolutions and pooling, checked and expanded, and printed as PyTorch prints them.</summary>
internal static class SpatialArguments
{
    /// <summary>One value for every spatial dimension, or one each; every value at least <paramref name="minimum"/>.</summary>
    public static long[] PerDimension(long[] values, int dimensions, string name, long minimum)
    {
        ArgumentNullException.ThrowIfNull(values, name);
        if (values.Length != 1 && values.Length != dimensions)
            throw new ArgumentException($"{name} takes 1 or {dimensions} values, got [{string.Join(", ", values)}]", name);
        if (values.Any(v => v < minimum)) throw new ArgumentException($"{name} values must be at least {minimum}, got [{string.Join(", ", values)}]", name);
        return values.Length == 1 ? [.. Enumerable.Repeat(values[0], dimensions)] : (long[])values.Clone();
    }

    /// <summary>A Python tuple: <c>(3,)</c>, <c>(3, 3)</c>.</summary>
    public static string Tuple(long[] values) => values.Length == 1 ? $"({values[0]},)" : "(" + string.Join(", ", values) + ")";
}
