using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.Upsample(size=None, scale_factor=None, mode='nearest', align_corners=None): nearest (PyTorch's
/// floor rule) or bilinear/linear, with align_corners; one of size and scale_factor.
/// </summary>
public sealed class Upsample : Block
{
    private readonly long[]? _size;
    private readonly double[]? _scaleFactor;

    public Upsample(long[]? size = null, double[]? scaleFactor = null, string mode = "nearest", bool alignCorners = false) : base(nameof(Upsample))
    {
        if ((size is null) == (scaleFactor is null)) throw new ArgumentException("give exactly one of size and scale_factor");
        if (mode is not ("nearest" or "linear" or "bilinear")) throw new ArgumentException($"mode must be 'nearest', 'linear' or 'bilinear', got '{mode}'", nameof(mode));
        if (mode == "nearest" && alignCorners) throw new ArgumentException("align_corners applies to the linear modes only", nameof(alignCorners));
        if (size?.Any(s => s <= 0) == true || scaleFactor?.Any(s => !(s > 0)) == true) throw new ArgumentException("sizes and scale factors must be positive");
        (_size, _scaleFactor, Mode, AlignCorners) = ((long[]?)size?.Clone(), (double[]?)scaleFactor?.Clone(), mode, alignCorners);
    }

    /// <summary>A convenience for the common case: the same factor for every spatial dimension.</summary>
    public Upsample(double scaleFactor, string mode = "nearest", bool alignCorners = false) : this(null, [scaleFactor], mode, alignCorners) { }

    public long[]? Size => (long[]?)_size?.Clone();

    public double[]? ScaleFactor => (double[]?)_scaleFactor?.Clone();

    public string Mode { get; }

    public bool AlignCorners { get; }

    protected override Value Forward(Value input) => Ops.Interpolate(input, _size, _scaleFactor, Mode, AlignCorners);

    protected override string ExtraRepr =>
        (_scaleFactor is null ? $"size={(_size!.Length == 1 ? _size[0].ToString(System.Globalization.CultureInfo.InvariantCulture) : "[" + string.Join(", ", _size) + "]")}"
            : $"scale_factor={(_scaleFactor.Length == 1 ? PythonRepr.Float(_scaleFactor[0]) : "[" + string.Join(", ", _scaleFactor.Select(PythonRepr.Float)) + "]")}")
        + $", mode={Mode}";
}

/// <summary>nn.PixelShuffle(upscale_factor): [N, C·r², H, W] → [N, C, H·r, W·r].</summary>
public sealed class PixelShuffle(long upscaleFactor) : Block(nameof(PixelShuffle))
{
    public long UpscaleFactor { get; } = upscaleFactor > 0 ? upscaleFactor : throw new ArgumentOutOfRangeException(nameof(upscaleFactor), upscaleFactor, "the factor must be positive");

    protected override Value Forward(Value input) => Ops.PixelShuffle(input, UpscaleFactor);

    protected override string ExtraRepr => $"upscale_factor={UpscaleFactor}";
}

/// <summary>nn.PixelUnshuffle(downscale_factor): [N, C, H·r, W·r] → [N, C·r², H, W].</summary>
public sealed class PixelUnshuffle(long downscaleFactor) : Block(nameof(PixelUnshuffle))
{
    public long DownscaleFactor { get; } = downscaleFactor > 0 ? downscaleFactor : throw new ArgumentOutOfRangeException(nameof(downscaleFactor), downscaleFactor, "the factor must be positive");

    protected override Value Forward(Value input) => Ops.PixelUnshuffle(input, DownscaleFactor);

    protected override string ExtraRepr => $"downscale_factor={DownscaleFactor}";
}
