using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What PyTorch's padding modules share (ZeroPad2d, ConstantPad1d/2d, ReflectionPad1d/2d,
/// ReplicationPad1d/2d): a padding per side of the last 1 or 2 dimensions, given once for all
/// sides or as (left, right[, top, bottom]) in PyTorch's order.
/// </summary>
public abstract class PaddingLayer : Block
{
    private readonly long[] _padding;

    private protected PaddingLayer(string name, int dimensions, long[] padding, string mode, double value) : base(name)
    {
        ArgumentNullException.ThrowIfNull(padding);
        if (padding.Length != 1 && padding.Length != 2 * dimensions)
            throw new ArgumentException($"padding takes 1 or {2 * dimensions} sizes, got [{string.Join(", ", padding)}]", nameof(padding));
        if (padding.Any(p => p < 0)) throw new ArgumentException($"padding cannot be negative, got [{string.Join(", ", padding)}]", nameof(padding));
        _padding = padding.Length == 1 ? [.. Enumerable.Repeat(padding[0], 2 * dimensions)] : (long[])padding.Clone();
        (Mode, FillValue) = (mode, value);
    }

    /// <summary>The sizes in PyTorch's order: (left, right[, top, bottom]).</summary>
    public long[] Padding => (long[])_padding.Clone();

    private protected string Mode { get; }

    private protected double FillValue { get; }

    protected override Value Forward(Value input) => Ops.Pad(input, _padding, Mode, FillValue);

    private protected string PaddingText => "(" + string.Join(", ", _padding) + ")";
}

public sealed class ZeroPad2d(long[] padding) : PaddingLayer(nameof(ZeroPad2d), 2, padding, "constant", 0)
{
    protected override string ExtraRepr => PaddingText;
}

public sealed class ConstantPad1d(long[] padding, double value) : PaddingLayer(nameof(ConstantPad1d), 1, padding, "constant", value)
{
    public double Value => FillValue;

    protected override string ExtraRepr => $"padding={PaddingText}, value={PythonRepr.Float(Value)}";
}

public sealed class ConstantPad2d(long[] padding, double value) : PaddingLayer(nameof(ConstantPad2d), 2, padding, "constant", value)
{
    public double Value => FillValue;

    protected override string ExtraRepr => $"padding={PaddingText}, value={PythonRepr.Float(Value)}";
}

public sealed class ReflectionPad1d(long[] padding) : PaddingLayer(nameof(ReflectionPad1d), 1, padding, "reflect", 0)
{
    protected override string ExtraRepr => PaddingText;
}

public sealed class ReflectionPad2d(long[] padding) : PaddingLayer(nameof(ReflectionPad2d), 2, padding, "reflect", 0)
{
    protected override string ExtraRepr => PaddingText;
}

public sealed class ReplicationPad1d(long[] padding) : PaddingLayer(nameof(ReplicationPad1d), 1, padding, "replicate", 0)
{
    protected override string ExtraRepr => PaddingText;
}

public sealed class ReplicationPad2d(long[] padding) : PaddingLayer(nameof(ReplicationPad2d), 2, padding, "replicate", 0)
{
    protected override string ExtraRepr => PaddingText;
}
