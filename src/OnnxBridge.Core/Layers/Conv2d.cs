using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// 2-D convolution over [batch, channels, height, width] with a square kernel, PyTorch's layout and
/// initialization (weight [out, in, k, k]; weight and bias from U(-1/√fan_in, 1/√fan_in), fan_in =
/// in·k·k). <c>new Conv2d(1, 6, 5)</c> is PyTorch's <c>nn.Conv2d(1, 6, 5)</c>: input channels
/// first. <see cref="Lazy"/> is <c>nn.LazyConv2d</c>: the input channels come from the first input,
/// from <see cref="Block.Build(Values.InputSpec)"/>, or from a state dict, and until then the layer
/// prints as <c>LazyConv2d</c>.
/// </summary>
public sealed class Conv2d : WeightedLayer
{
    /// <summary>PyTorch's <c>nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)</c>; a null <paramref name="inChannels"/> defers it.</summary>
    public Conv2d(long? inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
        : base(nameof(Conv2d), bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outChannels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(stride);
        ArgumentOutOfRangeException.ThrowIfNegative(padding);
        if (inChannels is { } known) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(known, nameof(inChannels));
        (OutChannels, KernelSize, Stride, Padding) = (outChannels, kernelSize, stride, padding);
        if (inChannels is { } size) Materialize([outChannels, size, kernelSize, kernelSize], ScalarType.Float32, CPU, initialize: true);
    }

    /// <summary>PyTorch's <c>nn.LazyConv2d(out_channels, kernel_size, stride, padding, bias)</c>: the input channels come from the first input.</summary>
    public static Conv2d Lazy(long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        new(null, outChannels, kernelSize, stride, padding, bias);

    /// <summary>The number of output channels.</summary>
    public long OutChannels { get; }

    /// <summary>The kernel's height and width.</summary>
    public long KernelSize { get; }

    /// <summary>The step between windows, in both directions.</summary>
    public long Stride { get; }

    /// <summary>Zeros added on each side, in both directions.</summary>
    public long Padding { get; }

    /// <summary>The number of input channels, once known.</summary>
    public long? InChannels => Weight?.shape[1];

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (Weight is null)
        {
            var (size, dtype, device) = DeferredSize.From(input, input.Rank == 4 ? input.Shape[1] : null, shape =>
                $"Conv2d({OutChannels}) takes its input channels from dimension 1 of a [batch, channels, height, width] input, but the input shape is {shape}; give in_channels or a known channel dimension");
            Materialize([OutChannels, size, KernelSize, KernelSize], dtype, device, initialize: true);
        }
        return Ops.Conv2d(input, Use(Weight!), Bias is null ? null : Use(Bias), Stride, Padding);
    }

    /// <inheritdoc/>
    protected internal override (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf)
    {
        ArgumentNullException.ThrowIfNull(shapeOf);
        var found = shapeOf("weight");
        if (found is not { Count: 4 } || found[0] != OutChannels || found[1] <= 0 || found[2] != KernelSize || found[3] != KernelSize)
        {
            var seen = found is null ? "no 'weight'" : $"'weight' of shape {Onnx.Tensors.HostTensor.FormatShape(found)}";
            return (null, $"Conv2d({OutChannels}, kernel {KernelSize}) takes its input channels from a 'weight' of shape [{OutChannels}, in_channels, {KernelSize}, {KernelSize}], found {seen}");
        }
        var plan = new Dictionary<string, long[]>(StringComparer.Ordinal) { ["weight"] = [.. found] };
        if (HasBias) plan["bias"] = [OutChannels];
        return (plan, null);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr
    {
        get
        {
            var inChannels = (InChannels ?? 0).ToString(CultureInfo.InvariantCulture);
            var padding = Padding > 0 ? string.Create(CultureInfo.InvariantCulture, $", padding=({Padding}, {Padding})") : "";
            return string.Create(CultureInfo.InvariantCulture,
                $"{inChannels}, {OutChannels}, kernel_size=({KernelSize}, {KernelSize}), stride=({Stride}, {Stride}){padding}{(HasBias ? "" : ", bias=False")}");
        }
    }
}
