using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What PyTorch's MaxPoolNd and AvgPoolNd share: a window, stride (default: the window), symmetric
/// padding, per spatial dimension or once for all (PyTorch's int-or-tuple arguments), and ceil mode.
/// Each argument keeps the form it was given in, as PyTorch's modules do: prints show one number as
/// an int and several as a list, and architecture files write it back the same way.
/// </summary>
public abstract class Pooling : Block
{
    private readonly long[] _kernel, _stride, _padding;

    private protected Pooling(string name, int dimensions, long[] kernelSize, long[]? stride, long[] padding, bool ceilMode) : base(name)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        ArgumentNullException.ThrowIfNull(padding);
        Dimensions = dimensions;
        _kernel = PerDimension(kernelSize, nameof(kernelSize), 1);
        _stride = stride is null || stride.Length == 0 ? (long[])_kernel.Clone() : PerDimension(stride, nameof(stride), 1);
        _padding = PerDimension(padding, nameof(padding), 0);
        if (_padding.Zip(_kernel).Any(p => 2 * p.First > p.Second))
            throw new ArgumentException($"padding [{string.Join(", ", _padding)}] must be at most half of kernel_size [{string.Join(", ", _kernel)}]", nameof(padding));
        // PyTorch keeps stride=None as the kernel size, in the form it was given.
        (KernelSize, Stride, Padding) = ((long[])kernelSize.Clone(), stride is null || stride.Length == 0 ? (long[])kernelSize.Clone() : (long[])stride.Clone(), (long[])padding.Clone());
        CeilMode = ceilMode;
    }

    public int Dimensions { get; }

    /// <summary>The window as given: one number for every spatial dimension, or one each.</summary>
    public long[] KernelSize { get; }

    public long[] Stride { get; }

    public long[] Padding { get; }

    public bool CeilMode { get; }

    private protected long[] KernelValues => _kernel;

    private protected long[] StrideValues => _stride;

    private protected long[] PaddingValues => _padding;

    /// <summary>An argument as PyTorch prints what it was given: an int for one number, a list for several.</summary>
    private protected static string Show(long[] given) =>
        given.Length == 1 ? given[0].ToString(CultureInfo.InvariantCulture) : "[" + string.Join(", ", given) + "]";

    private protected long[] PerDimension(long[] values, string name, long minimum) => SpatialArguments.PerDimension(values, Dimensions, name, minimum);
}

/// <summary>nn.MaxPool1d/2d/3d(kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False).</summary>
public class MaxPool : Pooling
{
    private readonly long[] _dilation;

    private protected MaxPool(int dimensions, long[] kernelSize, long[]? stride, long[]? padding, long[]? dilation, bool ceilMode)
        : base($"MaxPool{dimensions}d", dimensions, kernelSize, stride, padding ?? [0], ceilMode)
    {
        _dilation = PerDimension(dilation ?? [1], nameof(dilation), 1);
        Dilation = (long[])(dilation ?? [1]).Clone();
    }

    public long[] Dilation { get; }

    protected override Value Forward(Value input) => Ops.MaxPool(input, KernelValues, StrideValues, PaddingValues, _dilation, CeilMode);

    protected override string ExtraRepr =>
        $"kernel_size={Show(KernelSize)}, stride={Show(Stride)}, padding={Show(Padding)}, dilation={Show(Dilation)}, ceil_mode={(CeilMode ? "True" : "False")}";
}

public sealed class MaxPool1d(long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
    : MaxPool(1, kernelSize, stride, padding, dilation, ceilMode);

/// <summary>nn.MaxPool2d; <c>new MaxPool2d(2)</c> is PyTorch's <c>nn.MaxPool2d(2)</c>.</summary>
public sealed class MaxPool2d : MaxPool
{
    /// <summary>The square-window form: <c>nn.MaxPool2d(kernel_size, stride)</c>.</summary>
    public MaxPool2d(long kernelSize, long? stride = null) : this([kernelSize], stride is { } s ? [s] : null) { }

    public MaxPool2d(long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
        : base(2, kernelSize, stride, padding, dilation, ceilMode) { }
}

public sealed class MaxPool3d(long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null, bool ceilMode = false)
    : MaxPool(3, kernelSize, stride, padding, dilation, ceilMode);

/// <summary>nn.AvgPool1d/2d/3d(kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True).</summary>
public class AvgPool : Pooling
{
    private protected AvgPool(int dimensions, long[] kernelSize, long[]? stride, long[]? padding, bool ceilMode, bool countIncludePad)
        : base($"AvgPool{dimensions}d", dimensions, kernelSize, stride, padding ?? [0], ceilMode) => CountIncludePad = countIncludePad;

    public bool CountIncludePad { get; }

    protected override Value Forward(Value input) => Ops.AvgPool(input, KernelValues, StrideValues, PaddingValues, CeilMode, CountIncludePad);

    protected override string ExtraRepr => $"kernel_size={Show(KernelSize)}, stride={Show(Stride)}, padding={Show(Padding)}";
}

/// <summary>nn.AvgPool1d, which (unlike the others) stores its arguments as tuples and prints them so.</summary>
public sealed class AvgPool1d(long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    : AvgPool(1, kernelSize, stride, padding, ceilMode, countIncludePad)
{
    protected override string ExtraRepr =>
        $"kernel_size={SpatialArguments.Tuple(KernelValues)}, stride={SpatialArguments.Tuple(StrideValues)}, padding={SpatialArguments.Tuple(PaddingValues)}";
}

public sealed class AvgPool2d(long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    : AvgPool(2, kernelSize, stride, padding, ceilMode, countIncludePad);

public sealed class AvgPool3d(long[] kernelSize, long[]? stride = null, long[]? padding = null, bool ceilMode = false, bool countIncludePad = true)
    : AvgPool(3, kernelSize, stride, padding, ceilMode, countIncludePad);

/// <summary>
/// nn.AdaptiveAvgPool1d/2d and nn.AdaptiveMaxPool1d/2d(output_size): the window adapts to the input.
/// Exports for output 1 (global pooling) and for inputs that are a multiple of the output.
/// </summary>
public class AdaptivePool : Block
{
    private readonly long[] _outputSize;

    private protected AdaptivePool(int dimensions, long[] outputSize, bool max) : base($"Adaptive{(max ? "Max" : "Avg")}Pool{dimensions}d")
    {
        ArgumentNullException.ThrowIfNull(outputSize);
        if ((outputSize.Length != 1 && outputSize.Length != dimensions) || outputSize.Any(s => s <= 0))
            throw new ArgumentException($"output_size takes 1 or {dimensions} positive sizes, got [{string.Join(", ", outputSize)}]", nameof(outputSize));
        (Dimensions, Max) = (dimensions, max);
        _outputSize = outputSize.Length == 1 ? [.. Enumerable.Repeat(outputSize[0], dimensions)] : (long[])outputSize.Clone();
        GivenAsOne = outputSize.Length == 1;
    }

    public int Dimensions { get; }

    public long[] OutputSize => (long[])_outputSize.Clone();

    private bool Max { get; }

    private bool GivenAsOne { get; }

    protected override Value Forward(Value input) => Ops.AdaptivePool(input, _outputSize, Max);

    protected override string ExtraRepr => $"output_size={(GivenAsOne ? _outputSize[0].ToString(CultureInfo.InvariantCulture) : "[" + string.Join(", ", _outputSize) + "]")}";
}

public sealed class AdaptiveAvgPool1d(long[] outputSize) : AdaptivePool(1, outputSize, max: false);

public sealed class AdaptiveAvgPool2d(long[] outputSize) : AdaptivePool(2, outputSize, max: false);

public sealed class AdaptiveMaxPool1d(long[] outputSize) : AdaptivePool(1, outputSize, max: true);

public sealed class AdaptiveMaxPool2d(long[] outputSize) : AdaptivePool(2, outputSize, max: true);
