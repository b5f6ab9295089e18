using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>Transposed convolutions, resampling, padding, reshaping and the dropout variants as builder steps; each layer checks its own arguments.</summary>
public static class ShapeExtensions
{
    public static SequentialBuilder ConvTranspose1d(this SequentialBuilder builder, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                                    long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1) =>
        Checked(builder).AddLayer("ConvTranspose1d", () => new ConvTranspose1d(inChannels, outChannels, [kernelSize], [stride], [padding], [outputPadding], groups, bias, [dilation]));

    public static SequentialBuilder ConvTranspose2d(this SequentialBuilder builder, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0,
                                                    long outputPadding = 0, long groups = 1, bool bias = true, long dilation = 1) =>
        Checked(builder).AddLayer("ConvTranspose2d", () => new ConvTranspose2d(inChannels, outChannels, [kernelSize], [stride], [padding], [outputPadding], groups, bias, [dilation]));

    /// <summary>nn.LazyConvTranspose2d: the input channels come from the first input.</summary>
    public static SequentialBuilder LazyConvTranspose2d(this SequentialBuilder builder, long outChannels, long kernelSize, long stride = 1, long padding = 0, long outputPadding = 0) =>
        Checked(builder).AddLayer("LazyConvTranspose2d", () => new ConvTranspose2d(null, outChannels, [kernelSize], [stride], [padding], [outputPadding]));

    /// <summary>nn.Upsample(scale_factor=..., mode=...).</summary>
    public static SequentialBuilder Upsample(this SequentialBuilder builder, double scaleFactor, string mode = "nearest", bool alignCorners = false) =>
        Checked(builder).AddLayer("Upsample", () => new Upsample(scaleFactor, mode, alignCorners));

    public static SequentialBuilder PixelShuffle(this SequentialBuilder builder, long upscaleFactor) => Checked(builder).AddLayer("PixelShuffle", () => new PixelShuffle(upscaleFactor));

    public static SequentialBuilder PixelUnshuffle(this SequentialBuilder builder, long downscaleFactor) => Checked(builder).AddLayer("PixelUnshuffle", () => new PixelUnshuffle(downscaleFactor));

    public static SequentialBuilder ZeroPad2d(this SequentialBuilder builder, params long[] padding) => Checked(builder).AddLayer("ZeroPad2d", () => new ZeroPad2d(padding));

    public static SequentialBuilder ReflectionPad2d(this SequentialBuilder builder, params long[] padding) => Checked(builder).AddLayer("ReflectionPad2d", () => new ReflectionPad2d(padding));

    public static SequentialBuilder ReplicationPad2d(this SequentialBuilder builder, params long[] padding) => Checked(builder).AddLayer("ReplicationPad2d", () => new ReplicationPad2d(padding));

    /// <summary>nn.Flatten(start_dim, end_dim).</summary>
    public static SequentialBuilder Flatten(this SequentialBuilder builder, long startDim, long endDim = -1) => Checked(builder).AddLayer("Flatten", () => new Flatten(startDim, endDim));

    /// <summary>nn.Unflatten(dim, unflattened_size).</summary>
    public static SequentialBuilder Unflatten(this SequentialBuilder builder, long dim, long[] unflattenedSize) => Checked(builder).AddLayer("Unflatten", () => new Unflatten(dim, unflattenedSize));

    public static SequentialBuilder Dropout1d(this SequentialBuilder builder, double probability = 0.5) => Checked(builder).AddLayer("Dropout1d", () => new ChannelDropout("Dropout1d", probability));

    public static SequentialBuilder Dropout2d(this SequentialBuilder builder, double probability = 0.5) => Checked(builder).AddLayer("Dropout2d", () => new ChannelDropout("Dropout2d", probability));

    public static SequentialBuilder AlphaDropout(this SequentialBuilder builder, double probability = 0.5) => Checked(builder).AddLayer("AlphaDropout", () => new ChannelDropout("AlphaDropout", probability));

    /// <summary>nn.BatchNorm3d over [batch, channels, depth, height, width].</summary>
    public static SequentialBuilder BatchNorm3d(this SequentialBuilder builder, long numFeatures) => Checked(builder).AddLayer("BatchNorm3d", () => new BatchNorm(numFeatures, 5));

    private static SequentialBuilder Checked(SequentialBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}
