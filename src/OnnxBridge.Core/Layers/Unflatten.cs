using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// Reshapes [batch, C·H·W] to [batch, C, H, W] (PyTorch's nn.Unflatten(1, (C, H, W))), e.g. to
/// feed flat pixel rows to a convolution.
/// </summary>
public sealed class Unflatten : Block
{
    /// <summary>Creates the layer.</summary>
    public Unflatten(long channels, long height, long width) : base(nameof(Unflatten))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(height);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(width);
        (Channels, Height, Width) = (channels, height, width);
    }

    /// <summary>The channel count of the result.</summary>
    public long Channels { get; }

    /// <summary>The height of the result.</summary>
    public long Height { get; }

    /// <summary>The width of the result.</summary>
    public long Width { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => Ops.ReshapeBatch(input, [Channels, Height, Width]);

    /// <inheritdoc/>
    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"dim=1, unflattened_size=({Channels}, {Height}, {Width})");
}
