namespace OnnxBridge.Core.Layers;

// PyTorch's nn.Conv1d, nn.Conv2d, nn.Conv3d and their Lazy forms, argument for argument; the
// int-or-tuple arguments take one value for all spatial dimensions or one each (see Convolution).

/// <summary>nn.Conv1d over [batch, channels, length].</summary>
public sealed class Conv1d : Convolution
{
    public Conv1d(long? inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(1, inChannels, outChannels, kernelSize, stride, padding, null, dilation, groups, bias, paddingMode) { }

    /// <summary>nn.Conv1d with padding "same" or "valid".</summary>
    public Conv1d(long? inChannels, long outChannels, long[] kernelSize, string padding, long[]? stride = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(1, inChannels, outChannels, kernelSize, stride, null, padding, dilation, groups, bias, paddingMode) { }
}

/// <summary>
/// nn.Conv2d over [batch, channels, height, width]: <c>new Conv2d(1, 6, 5)</c> is PyTorch's
/// <c>nn.Conv2d(1, 6, 5)</c>, input channels first; <see cref="Lazy(long, long, long, long, bool)"/>
/// is <c>nn.LazyConv2d</c>, which prints as <c>LazyConv2d</c> until its input channels are known.
/// </summary>
public sealed class Conv2d : Convolution
{
    /// <summary>The square-kernel form: <c>nn.Conv2d(in_channels, out_channels, kernel_size, stride, padding, bias)</c>.</summary>
    public Conv2d(long? inChannels, long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true)
        : this(inChannels, outChannels, [kernelSize], [stride], [padding], null, 1, bias) { }

    public Conv2d(long? inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(2, inChannels, outChannels, kernelSize, stride, padding, null, dilation, groups, bias, paddingMode) { }

    /// <summary>nn.Conv2d with padding "same" or "valid".</summary>
    public Conv2d(long? inChannels, long outChannels, long[] kernelSize, string padding, long[]? stride = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(2, inChannels, outChannels, kernelSize, stride, null, padding, dilation, groups, bias, paddingMode) { }

    /// <summary>PyTorch's <c>nn.LazyConv2d(out_channels, kernel_size, stride, padding, bias)</c>: the input channels come from the first input.</summary>
    public static Conv2d Lazy(long outChannels, long kernelSize, long stride = 1, long padding = 0, bool bias = true) =>
        new(null, outChannels, kernelSize, stride, padding, bias);
}

/// <summary>nn.Conv3d over [batch, channels, depth, height, width].</summary>
public sealed class Conv3d : Convolution
{
    public Conv3d(long? inChannels, long outChannels, long[] kernelSize, long[]? stride = null, long[]? padding = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(3, inChannels, outChannels, kernelSize, stride, padding, null, dilation, groups, bias, paddingMode) { }

    /// <summary>nn.Conv3d with padding "same" or "valid".</summary>
    public Conv3d(long? inChannels, long outChannels, long[] kernelSize, string padding, long[]? stride = null, long[]? dilation = null,
                  long groups = 1, bool bias = true, string paddingMode = "zeros")
        : base(3, inChannels, outChannels, kernelSize, stride, null, padding, dilation, groups, bias, paddingMode) { }
}
