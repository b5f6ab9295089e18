using System.Globalization;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What Conv1d, Conv2d and Conv3d share — PyTorch's <c>_ConvNd</c>: weight [out, in/groups, k...],
/// kernel, stride, padding (numbers, or "same"/"valid"), dilation and groups per spatial dimension,
/// an optional bias, padding_mode zeros/reflect/replicate/circular, and PyTorch's initialization
/// (U(−1/√fan_in, 1/√fan_in) for weight and bias, fan_in = in/groups · ∏k). A null input channel
/// count defers the layer (PyTorch's LazyConvNd).
/// </summary>
public abstract class Convolution : WeightedLayer
{
    private readonly long[] _kernel, _stride, _dilation, _padsBegin, _padsEnd;

    /// <param name="dimensions">The number of spatial dimensions (1, 2 or 3).</param>
    /// <param name="padding">Per spatial dimension, or once for all; 2N numbers give the sides separately (begins, then ends).</param>
    /// <param name="paddingName">"same" or "valid" instead of numbers; null when numbers are given.</param>
    private protected Convolution(int dimensions, long? inChannels, long outChannels, long[] kernelSize, long[]? stride, long[]? padding, string? paddingName,
                                  long[]? dilation, long groups, bool bias, string paddingMode)
        : base($"Conv{dimensions}d", bias)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        Dimensions = dimensions;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        _kernel = PerDimension(kernelSize, nameof(kernelSize), 1);
        _stride = PerDimension(stride ?? [1], nameof(stride), 1);
        _dilation = PerDimension(dilation ?? [1], nameof(dilation), 1);
        if (paddingMode is not ("zeros" or "reflect" or "replicate" or "circular"))
            throw new ArgumentException($"padding_mode must be 'zeros', 'reflect', 'replicate' or 'circular', got '{paddingMode}'", nameof(paddingMode));
        if (outChannels % groups != 0) throw new ArgumentException($"out_channels ({outChannels}) must be divisible by groups ({groups})", nameof(outChannels));
        if (inChannels is { } known && (known <= 0 || known % groups != 0))
            throw new ArgumentException($"in_channels ({known}) must be positive and divisible by groups ({groups})", nameof(inChannels));
        (OutChannels, Groups, PaddingMode, PaddingName) = (outChannels, groups, paddingMode, paddingName);
        (_padsBegin, _padsEnd) = paddingName switch
        {
            null => Pads(padding ?? [0]),
            "valid" => (new long[dimensions], new long[dimensions]),
            // PyTorch's 'same': the total padding dilation·(k−1), the extra one (even kernels) at the end.
            "same" when _stride.All(s => s == 1) => (Enumerable.Range(0, dimensions).Select(i => _dilation[i] * (_kernel[i] - 1) / 2).ToArray(),
                                                      Enumerable.Range(0, dimensions).Select(i => _dilation[i] * (_kernel[i] - 1) - _dilation[i] * (_kernel[i] - 1) / 2).ToArray()),
            "same" => throw new ArgumentException("padding='same' is not supported for strided convolutions (as in PyTorch)", nameof(padding)),
            _ => throw new ArgumentException($"padding must be numbers, 'same' or 'valid', got '{paddingName}'", nameof(padding)),
        };
        if (inChannels is { } size) Materialize(WeightShape(size), ScalarType.Float32, CPU, initialize: true);
    }

    /// <summary>The number of spatial dimensions.</summary>
    public int Dimensions { get; }

    /// <summary>The number of input channels, once known.</summary>
    public long? InChannels => Weight is null ? null : Weight.shape[1] * Groups;

    public long OutChannels { get; }

    public long[] KernelSize => (long[])_kernel.Clone();

    public long[] Stride => (long[])_stride.Clone();

    /// <summary>The padding per spatial dimension, or begins then ends (2N numbers) where the sides differ.</summary>
    public long[] Padding => _padsBegin.SequenceEqual(_padsEnd) ? (long[])_padsBegin.Clone() : [.. _padsBegin, .. _padsEnd];

    public long[] Dilation => (long[])_dilation.Clone();

    public long Groups { get; }

    public string PaddingMode { get; }

    /// <summary>"same" or "valid" when the padding was given by name.</summary>
    public string? PaddingName { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (Weight is null)
        {
            var (size, dtype, device) = DeferredSize.From(input, input.Rank == Dimensions + 2 ? input.Shape[1] : null, shape =>
                $"{DisplayName}({OutChannels}) takes its input channels from dimension 1 of a [batch, channels, {Dimensions} spatial dimensions] input, but the input shape is {shape}; give in_channels or a known channel dimension");
            Materialize(WeightShape(size), dtype, device, initialize: true);
        }
        return Ops.Conv(input, Use(Weight!), Bias is null ? null : Use(Bias), _stride, _padsBegin, _padsEnd, _dilation, Groups, PaddingMode);
    }

    /// <inheritdoc/>
    protected internal override (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf)
    {
        ArgumentNullException.ThrowIfNull(shapeOf);
        var found = shapeOf("weight");
        var expected = WeightShape(0);
        if (found is null || found.Count != expected.Length || found[0] != OutChannels || found[1] <= 0 || !found.Skip(2).SequenceEqual(_kernel))
        {
            var seen = found is null ? "no 'weight'" : $"'weight' of shape {Onnx.Tensors.HostTensor.FormatShape(found)}";
            return (null, $"{DisplayName}({OutChannels}, kernel_size={Tuple(_kernel)}) takes its input channels from a 'weight' of shape [{OutChannels}, in_channels/groups, {string.Join(", ", _kernel)}], found {seen}");
        }
        var plan = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["weight"] = [.. found] };
        if (HasBias) plan["bias"] = [OutChannels];
        return (plan, null);
    }

    /// <summary>PyTorch's print: <c>Conv2d(3, 4, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))</c>.</summary>
    protected override string ExtraRepr
    {
        get
        {
            var c = CultureInfo.InvariantCulture;
            var text = string.Create(c, $"{InChannels ?? 0}, {OutChannels}, kernel_size={Tuple(_kernel)}, stride={Tuple(_stride)}");
            if (PaddingName is not null) text += $", padding={PaddingName}";
            else if (_padsBegin.Any(p => p != 0) || _padsEnd.Any(p => p != 0)) text += $", padding={Tuple(Padding)}";
            if (_dilation.Any(d => d != 1)) text += $", dilation={Tuple(_dilation)}";
            if (Groups != 1) text += string.Create(c, $", groups={Groups}");
            if (!HasBias) text += ", bias=False";
            if (PaddingMode != "zeros") text += $", padding_mode={PaddingMode}";
            return text;
        }
    }

    private long[] WeightShape(long inChannels) => [OutChannels, inChannels / Groups, .. _kernel];

    private long[] PerDimension(long[] values, string name, long minimum) => SpatialArguments.PerDimension(values, Dimensions, name, minimum);

    private (long[], long[]) Pads(long[] padding)
    {
        if (padding.Any(p => p < 0)) throw new ArgumentException($"padding cannot be negative, got [{string.Join(", ", padding)}]", nameof(padding));
        if (padding.Length == 2 * Dimensions && Dimensions > 1 || padding.Length == 2 && Dimensions == 1)
            return (padding[..Dimensions], padding[Dimensions..]);
        var each = PerDimension(padding, nameof(padding), 0);
        return (each, (long[])each.Clone());
    }

    private static string Tuple(long[] values) => SpatialArguments.Tuple(values);
}
