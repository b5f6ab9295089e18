using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.Unflatten(dim, unflattened_size): splits dimension <see cref="Dim"/> into the given sizes (one
/// may be −1), e.g. [batch, C·H·W] → [batch, C, H, W] to feed flat pixel rows to a convolution.
/// </summary>
public sealed class Unflatten : Block
{
    private readonly long[] _sizes;

    public Unflatten(long dim, long[] unflattenedSize) : base(nameof(Unflatten))
    {
        ArgumentNullException.ThrowIfNull(unflattenedSize);
        if (unflattenedSize.Length == 0 || unflattenedSize.Any(s => s == 0 || s < -1) || unflattenedSize.Count(s => s == -1) > 1)
            throw new ArgumentException($"unflattened_size must be positive sizes with at most one -1, got [{string.Join(", ", unflattenedSize)}]", nameof(unflattenedSize));
        (Dim, _sizes) = (dim, (long[])unflattenedSize.Clone());
    }

    /// <summary>[batch, C·H·W] → [batch, C, H, W]: <c>nn.Unflatten(1, (C, H, W))</c>.</summary>
    public Unflatten(long channels, long height, long width) : this(1, [channels, height, width]) { }

    public long Dim { get; }

    public long[] UnflattenedSize => (long[])_sizes.Clone();

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        var axis = Dim < 0 ? Dim + input.Rank : Dim;
        if (axis == 1 && input.Rank == 2 && !_sizes.Contains(-1)) return Ops.ReshapeBatch(input, _sizes); // [batch, n]: the batch stays named
        return Ops.Unflatten(input, Dim, _sizes);
    }

    /// <inheritdoc/>
    /// <summary>PyTorch prints the sizes as given; ours are an array, so they print as a list (PyTorch's <c>nn.Unflatten(1, [C, H, W])</c>).</summary>
    protected override string ExtraRepr => $"dim={Dim}, unflattened_size=[{string.Join(", ", _sizes)}]";
}
