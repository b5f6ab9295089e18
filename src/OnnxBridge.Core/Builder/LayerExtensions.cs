using System.Globalization;
using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>The built-in layer kinds, as builder steps.</summary>
public static class LayerExtensions
{
    /// <summary>Appends PyTorch's <c>nn.LazyLinear(out_features)</c>: a <see cref="Layers.Linear"/> whose input size comes from its input.</summary>
    public static SequentialBuilder Linear(this SequentialBuilder builder, long outFeatures, bool bias = true) => AddLinear(builder, null, outFeatures, bias);

    /// <summary>Appends PyTorch's <c>nn.Linear(in_features, out_features)</c>.</summary>
    public static SequentialBuilder Linear(this SequentialBuilder builder, long inFeatures, long outFeatures, bool bias = true) => AddLinear(builder, inFeatures, outFeatures, bias);

    private static SequentialBuilder AddLinear(SequentialBuilder builder, long? inFeatures, long outFeatures, bool bias)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (outFeatures <= 0) problems.Add($"out_features must be positive, got {outFeatures}");
        if (inFeatures <= 0) problems.Add($"in_features must be positive, got {inFeatures}");
        var description = inFeatures is null ? $"LazyLinear({outFeatures})" : $"Linear({inFeatures}, {outFeatures})";
        return builder.Add(description, () => new Linear(inFeatures, outFeatures, bias), [.. problems]);
    }

    /// <summary>Appends <see cref="Layers.ReLU"/>.</summary>
    public static SequentialBuilder ReLU(this SequentialBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add("ReLU", () => new ReLU());
    }

    /// <summary>Appends PyTorch's <c>nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)</c>.</summary>
    public static SequentialBuilder Conv2d(this SequentialBuilder builder, long inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        AddConv2d(builder, inChannels, outChannels, kernelSize, stride, padding, bias);

    /// <summary>Appends PyTorch's <c>nn.LazyConv2d(out_channels, kernel_size, ...)</c>: a <see cref="Layers.Conv2d"/> whose input channels come from its input.</summary>
    public static SequentialBuilder LazyConv2d(this SequentialBuilder builder, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        AddConv2d(builder, null, outChannels, kernelSize, stride, padding, bias);

    private static SequentialBuilder AddConv2d(SequentialBuilder builder, long? inChannels, long outChannels, long kernelSize, long stride, long padding, bool bias)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (outChannels <= 0) problems.Add($"out_channels must be positive, got {outChannels}");
        if (kernelSize <= 0) problems.Add($"kernel_size must be positive, got {kernelSize}");
        if (stride <= 0) problems.Add($"stride must be positive, got {stride}");
        if (padding < 0) problems.Add($"padding cannot be negative, got {padding}");
        if (inChannels <= 0) problems.Add($"in_channels must be positive, got {inChannels}");
        var description = inChannels is null
            ? string.Create(CultureInfo.InvariantCulture, $"LazyConv2d({outChannels}, kernel_size={kernelSize})")
            : string.Create(CultureInfo.InvariantCulture, $"Conv2d({inChannels}, {outChannels}, kernel_size={kernelSize})");
        return builder.Add(description, () => new Conv2d(inChannels, outChannels, kernelSize, stride, padding, bias), [.. problems]);
    }

    /// <summary>Appends <see cref="Layers.MaxPool2d"/>; the stride defaults to the window size.</summary>
    public static SequentialBuilder MaxPool2d(this SequentialBuilder builder, long kernelSize, long? stride = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (kernelSize <= 0) problems.Add($"kernel_size must be positive, got {kernelSize}");
        if (stride <= 0) problems.Add($"stride must be positive, got {stride}");
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"MaxPool2d({kernelSize})"), () => new MaxPool2d(kernelSize, stride), [.. problems]);
    }

    /// <summary>Appends <see cref="Layers.Flatten"/>.</summary>
    public static SequentialBuilder Flatten(this SequentialBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add("Flatten", () => new Flatten());
    }

    /// <summary>Appends <see cref="Layers.Unflatten"/>: [batch, C·H·W] → [batch, C, H, W].</summary>
    public static SequentialBuilder Unflatten(this SequentialBuilder builder, long channels, long height, long width)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (channels <= 0 || height <= 0 || width <= 0) problems.Add($"every size must be positive, got ({channels}, {height}, {width})");
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"Unflatten({channels}, {height}, {width})"), () => new Unflatten(channels, height, width), [.. problems]);
    }

    /// <summary>Appends <see cref="Layers.Dropout"/>.</summary>
    public static SequentialBuilder Dropout(this SequentialBuilder builder, double probability = 0.5)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = probability is >= 0 and < 1 ? [] : new[] { $"the probability must be in [0, 1), got {probability}" };
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"Dropout({probability})"), () => new Dropout(probability), problems);
    }

    /// <summary>Appends a <see cref="BatchNorm"/> over [batch, features].</summary>
    public static SequentialBuilder BatchNorm1d(this SequentialBuilder builder, long numFeatures) => AddBatchNorm(builder, numFeatures, 2);

    /// <summary>Appends a <see cref="BatchNorm"/> over [batch, channels, height, width].</summary>
    public static SequentialBuilder BatchNorm2d(this SequentialBuilder builder, long numFeatures) => AddBatchNorm(builder, numFeatures, 4);

    private static SequentialBuilder AddBatchNorm(SequentialBuilder builder, long numFeatures, long rank)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = numFeatures > 0 ? [] : new[] { $"num_features must be positive, got {numFeatures}" };
        var name = rank == 2 ? "BatchNorm1d" : "BatchNorm2d";
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"{name}({numFeatures})"), () => new BatchNorm(numFeatures, rank), problems);
    }
}
