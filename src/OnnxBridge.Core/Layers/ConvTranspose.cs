using System.Globalization;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// PyTorch's nn.ConvTranspose1d/2d(in_channels, out_channels, kernel_size, stride=1, padding=0,
/// output_padding=0, groups=1, bias=True, dilation=1): weight [in, out/groups, k...], bias [out],
/// PyTorch's initialization (fan_in = out/groups · ∏k). A null in_channels defers it
/// (LazyConvTranspose). Zero padding only, as PyTorch's transposed convolutions.
/// </summary>
public abstract class ConvTranspose : WeightedLayer
{
    private readonly long[] _kernel, _stride, _padding, _outputPadding, _dilation;

    private protected ConvTranspose(int dimensions, long? inChannels, long outChannels, long[] kernelSize, long[]? stride, long[]? padding,
                                    long[]? outputPadding, long groups, bool bias, long[]? dilation)
        : base($"ConvTranspose{dimensions}d", bias)
    {
        ArgumentNullException.ThrowIfNull(kernelSize);
        Dimensions = dimensions;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(groups);
        if (outChannels % groups != 0) throw new ArgumentException($"out_channels ({outChannels}) must be divisible by groups ({groups})", nameof(outChannels));
        if (inChannels is { } known && (known <= 0 || known % groups != 0))
            throw new ArgumentException($"in_channels ({known}) must be positive and divisible by groups ({groups})", nameof(inChannels));
        _kernel = PerDimension(kernelSize, nameof(kernelSize), 1);
        _stride = PerDimension(stride ?? [1], nameof(stride), 1);
        _padding = PerDimension(padding ?? [0], nameof(padding), 0);
        _outputPadding = PerDimension(outputPadding ?? [0], nameof(outputPadding), 0);
        _dilation = PerDimension(dilation ?? [1], nameof(dilation), 1);
        for (int i = 0; i < dimensions; i++)
        {
            if (_outputPadding[i] >= Math.Max(_stride[i], _dilation[i]))
                throw new ArgumentException($"output_padding ({_outputPadding[i]}) must be smaller than stride or dilation ({_stride[i]}, {_dilation[i]})", nameof(outputPadding));
        }
        (OutChannels, Groups) = (outChannels, groups);
        if (inChannels is { } size) Materialize(WeightShape(size), ScalarType.Float32, CPU, initialize: true, OutChannels);
    }

    public int Dimensions { get; }

    public long? InChannels => Weight?.shape[0];

    public long OutChannels { get; }

    public long[] KernelSize => (long[])_kernel.Clone();

    public long[] Stride => (long[])_stride.Clone();

    public long[] Padding => (long[])_padding.Clone();

    public long[] OutputPadding => (long[])_outputPadding.Clone();

    public long Groups { get; }

    public long[] Dilation => (long[])_dilation.Clone();

    protected override Value Forward(Value input)
    {
        if (Weight is null)
        {
            var (size, dtype, device) = DeferredSize.From(input, input.Rank == Dimensions + 2 ? input.Shape[1] : null, shape =>
                $"{DisplayName}({OutChannels}) takes its input channels from dimension 1 of its input, but the input shape is {shape}; give in_channels or a known channel dimension");
            Materialize(WeightShape(size), dtype, device, initialize: true, OutChannels);
        }
        return Ops.ConvTranspose(input, Use(Weight!), Bias is null ? null : Use(Bias), _stride, _padding, _outputPadding, _dilation, Groups);
    }

    protected internal override (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf)
    {
        ArgumentNullException.ThrowIfNull(shapeOf);
        var found = shapeOf("weight");
        if (found is null || found.Count != Dimensions + 2 || found[0] <= 0 || found[1] * Groups != OutChannels || !found.Skip(2).SequenceEqual(_kernel))
        {
            var seen = found is null ? "no 'weight'" : $"'weight' of shape {Onnx.Tensors.HostTensor.FormatShape(found)}";
            return (null, $"{DisplayName}({OutChannels}) takes its input channels from a 'weight' of shape [in_channels, {OutChannels / Groups}, {string.Join(", ", _kernel)}], found {seen}");
        }
        var plan = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["weight"] = [.. found] };
        if (HasBias) plan["bias"] = [OutChannels];
        return (plan, null);
    }

    protected override string ExtraRepr
    {
        get
        {
            var text = string.Create(CultureInfo.InvariantCulture, $"{InChannels ?? 0}, {OutChannels}, kernel_size={Tuple(_kernel)}, stride={Tuple(_stride)}");
            if (_padding.Any(p => p != 0)) text += $", padding={Tuple(_padding)}";
            if (_outputPadding.Any(p => p != 0)) text += $", output_padding={Tuple(_outputPadding)}";
            if (_dilation.Any(d => d != 1)) text += $", dilation={Tuple(_dilation)}";
            if (Groups != 1) text += string.Create(CultureInfo.InvariantCulture, $", groups={Groups}");
            return HasBias ? text : text + ", bias=False";
        }
    }

    private long[] WeightShape(long inChannels) => [inChannels, OutChannels / Groups, .. _kernel];

    private long[] PerDimension(long[] values, string name, long minimum) => SpatialArguments.PerDimension(values, Dimensions, name, minimum);

    private static string Tuple(long[] values) => SpatialArguments.Tuple(values);
}

public sealed class ConvTranspose1d(long? inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null,
                                    long[]? outputPadding = null, long groups = 1, bool bias = true, long[]? dilation = null)
    : ConvTranspose(1, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);

public sealed class ConvTranspose2d(long? inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null,
                                    long[]? outputPadding = null, long groups = 1, bool bias = true, long[]? dilation = null)
    : ConvTranspose(2, inChannels, outChannels, kernelSize, stride, padding, outputPadding, groups, bias, dilation);
