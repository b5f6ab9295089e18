using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>
/// Convolutions and pooling beyond the square Conv2d/MaxPool2d of <see cref="LayerExtensions"/>, as
/// builder steps with PyTorch's arguments; the int-or-tuple ones take one value or one per dimension.
/// </summary>
public static class ConvolutionExtensions
{
    public static SequentialBuilder Conv1d(this SequentialBuilder builder, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                           long dilation = 1, long groups = 1, bool bias = true, string paddingMode = "zeros") =>
        builder.AddLayer("Conv1d", () => new Conv1d(inChannels, outChannels, [kernelSize], [stride], [padding], [dilation], groups, bias, paddingMode));

    /// <summary>nn.LazyConv1d: the input channels come from the first input.</summary>
    public static SequentialBuilder LazyConv1d(this SequentialBuilder builder, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                               long dilation = 1, long groups = 1, bool bias = true) =>
        builder.AddLayer("LazyConv1d", () => new Conv1d(null, outChannels, [kernelSize], [stride], [padding], [dilation], groups, bias));

    /// <summary>nn.Conv2d with every argument, per dimension.</summary>
    public static SequentialBuilder Conv2d(this SequentialBuilder builder, long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null,
                                           long[]? dilation = null, long groups = 1, bool bias = true, string paddingMode = "zeros") =>
        builder.AddLayer("Conv2d", () => new Conv2d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias, paddingMode));

    /// <summary>nn.Conv2d with padding "same" or "valid".</summary>
    public static SequentialBuilder Conv2d(this SequentialBuilder builder, long inChannels, long outChannels, long kernelSize, string padding, long dilation = 1, long groups = 1, bool bias = true) =>
        builder.AddLayer("Conv2d", () => new Conv2d(inChannels, outChannels, [kernelSize], padding, null, [dilation], groups, bias));

    public static SequentialBuilder Conv3d(this SequentialBuilder builder, long inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null,
                                           long[]? dilation = null, long groups = 1, bool bias = true) =>
        builder.AddLayer("Conv3d", () => new Conv3d(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias));

    public static SequentialBuilder MaxPool1d(this SequentialBuilder builder, long kernelSize, long? stride = null, long padding = 0, long dilation = 1, bool ceilMode = false) =>
        builder.AddLayer("MaxPool1d", () => new MaxPool1d([kernelSize], stride is { } s ? [s] : null, [padding], [dilation], ceilMode));

    /// <summary>nn.MaxPool2d with padding, dilation and ceil mode.</summary>
    public static SequentialBuilder MaxPool2d(this SequentialBuilder builder, long kernelSize, long? stride, long padding, long dilation = 1, bool ceilMode = false) =>
        builder.AddLayer("MaxPool2d", () => new MaxPool2d([kernelSize], stride is { } s ? [s] : null, [padding], [dilation], ceilMode));

    public static SequentialBuilder AvgPool1d(this SequentialBuilder builder, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        builder.AddLayer("AvgPool1d", () => new AvgPool1d([kernelSize], stride is { } s ? [s] : null, [padding], ceilMode, countIncludePad));

    public static SequentialBuilder AvgPool2d(this SequentialBuilder builder, long kernelSize, long? stride = null, long padding = 0, bool ceilMode = false, bool countIncludePad = true) =>
        builder.AddLayer("AvgPool2d", () => new AvgPool2d([kernelSize], stride is { } s ? [s] : null, [padding], ceilMode, countIncludePad));

    public static SequentialBuilder AdaptiveAvgPool1d(this SequentialBuilder builder, long outputSize) => builder.AddLayer("AdaptiveAvgPool1d", () => new AdaptiveAvgPool1d([outputSize]));

    /// <summary>nn.AdaptiveAvgPool2d(output_size); 1 is global average pooling (ResNet's head).</summary>
    public static SequentialBuilder AdaptiveAvgPool2d(this SequentialBuilder builder, params long[] outputSize) => builder.AddLayer("AdaptiveAvgPool2d", () => new AdaptiveAvgPool2d(outputSize));

    public static SequentialBuilder AdaptiveMaxPool1d(this SequentialBuilder builder, long outputSize) => builder.AddLayer("AdaptiveMaxPool1d", () => new AdaptiveMaxPool1d([outputSize]));

    public static SequentialBuilder AdaptiveMaxPool2d(this SequentialBuilder builder, params long[] outputSize) => builder.AddLayer("AdaptiveMaxPool2d", () => new AdaptiveMaxPool2d(outputSize));
}
