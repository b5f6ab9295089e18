using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>2-D max pooling with a square window, no padding (PyTorch's MaxPool2d; the stride defaults to the window).</summary>
public sealed class MaxPool2d : Block
{
    /// <summary>Creates the layer.</summary>
    public MaxPool2d(long kernelSize, long? stride = null) : base(nameof(MaxPool2d))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(kernelSize);
        if (stride is { } s) ArgumentOutOfRangeException.ThrowIfNegativeOrZero(s, nameof(stride));
        KernelSize = kernelSize;
        Stride = stride ?? kernelSize;
    }

    /// <summary>The window's height and width.</summary>
    public long KernelSize { get; }

    /// <summary>The step between windows.</summary>
    public long? Stride { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => Ops.MaxPool2d(input, KernelSize, Stride!.Value);

    /// <inheritdoc/>
    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"kernel_size={KernelSize}, stride={Stride}");
}
