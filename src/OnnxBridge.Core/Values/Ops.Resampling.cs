using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Changing the spatial resolution: upsampling and the pixel shuffles.</summary>
public static partial class Ops
{
    /// <summary>
    /// Resizes the spatial dimensions of [N, C, spatial...] to <paramref name="size"/> or by
    /// <paramref name="scaleFactor"/> (one given), <paramref name="mode"/> "nearest" (PyTorch's
    /// floor rule) or "bilinear"/"linear" (with or without align_corners) — torch interpolate,
    /// ONNX Resize with the coordinate mode that reproduces each.
    /// </summary>
    public static Value Interpolate(Value x, long[]? size, double[]? scaleFactor, string mode = "nearest", bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(x);
        var spatial = x.Rank - 2;
        if ((size is null) == (scaleFactor is null)) throw Refused("Resize", "give exactly one of size and scale_factor", x);
        if (spatial < 1 || (size?.Length ?? scaleFactor!.Length) is var count && count != 1 && count != spatial)
            throw Refused("Resize", $"resizing takes [batch, channels, spatial...] and one size or scale factor per spatial dimension, got {Dim.Format(x.Shape)}", x);
        if (mode is not ("nearest" or "linear" or "bilinear")) throw Refused("Resize", $"mode '{mode}' is not supported; use nearest or bilinear (linear for 1-d)", x);
        if (mode == "nearest" && alignCorners) throw Refused("Resize", "align_corners applies to the linear modes only (as in PyTorch)", x);
        long[]? sizes = size is null ? null : size.Length == 1 ? [.. Enumerable.Repeat(size[0], spatial)] : size;
        double[]? scales = scaleFactor is null ? null : scaleFactor.Length == 1 ? [.. Enumerable.Repeat(scaleFactor[0], spatial)] : scaleFactor;
        if (GraphOf(x) is not { } graph)
        {
            var torchMode = mode == "nearest" ? InterpolationMode.Nearest : spatial == 1 ? InterpolationMode.Linear : InterpolationMode.Bilinear;
            return Eager("Resize", () => nn.functional.interpolate(x.Tensor, sizes, scales, torchMode, mode == "nearest" ? null : alignCorners), x);
        }
        var sx = Lift(graph, x);
        var shape = new Dim[sx.Shape.Count];
        (shape[0], shape[1]) = (sx.Shape[0], sx.Shape[1]);
        for (int i = 0; i < spatial; i++)
        {
            shape[i + 2] = sizes is not null ? Dim.Known(sizes[i])
                : sx.Shape[i + 2] is { IsKnown: true } d ? Dim.Known((long)Math.Floor(d.Size!.Value * scales![i])) : Dim.Unknown;
        }
        var node = graph.Node("Resize").Input(sx).OptionalInput(null);
        if (scales is not null)
            node.Input(graph.Constant(HostTensor.Create<float>([1, 1, .. scales.Select(s => (float)s)], spatial + 2)));
        else
            node.OptionalInput(null).Input(graph.Node("Concat").Input(
                    graph.Node("Slice").Input(graph.Node("Shape").Input(sx).Output(DataType.Int64, [Dim.Known(sx.Shape.Count)])).ConstantInput(0).ConstantInput(2).Output(DataType.Int64, [Dim.Known(2)]),
                    graph.Constant(HostTensor.Create<long>(sizes!, spatial)))
                .Attribute("axis", 0).Output(DataType.Int64, [Dim.Known(sx.Shape.Count)]));
        node.Attribute("mode", mode == "nearest" ? "nearest" : "linear")
            .Attribute("coordinate_transformation_mode", mode == "nearest" ? "asymmetric" : alignCorners ? "align_corners" : "pytorch_half_pixel");
        if (mode == "nearest") node.Attribute("nearest_mode", "floor");
        return Value.Symbolic(node.Output(sx.ElementType, shape));
    }

    /// <summary>[N, C·r², H, W] → [N, C, H·r, W·r] (torch pixel_shuffle, ONNX DepthToSpace in CRD order).</summary>
    public static Value PixelShuffle(Value x, long upscaleFactor) => DepthToSpace(x, upscaleFactor, "CRD", "pixel_shuffle");

    /// <summary>
    /// ONNX DepthToSpace: [N, C·b², H, W] → [N, C, H·b, W·b], the channels read as
    /// (row offset, column offset, channel) in "DCR" mode (ONNX's default) or as (channel, row
    /// offset, column offset) in "CRD" mode (torch pixel_shuffle).
    /// </summary>
    public static Value DepthToSpace(Value x, long blocksize, string mode = "DCR") => DepthToSpace(x, blocksize, mode, "DepthToSpace");

    private static Value DepthToSpace(Value x, long b, string mode, string what)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (b <= 0 || x.Rank != 4) throw Refused("DepthToSpace", $"{what} takes [batch, channels, height, width] and a positive block size, got {Dim.Format(x.Shape)} and {b}", x);
        if (mode is not ("DCR" or "CRD")) throw Refused("DepthToSpace", $"mode '{mode}' is not one of DCR and CRD", x);
        if (x.Shape[1] is { IsKnown: true } c && c.Size % (b * b) != 0)
            throw Refused("DepthToSpace", $"{what} by {b} needs channels divisible by {b * b}, got {Dim.Format(x.Shape)}", x);
        if (GraphOf(x) is not { } graph)
        {
            return Eager("DepthToSpace", () =>
            {
                if (mode == "CRD") return nn.functional.pixel_shuffle(x.Tensor, b);
                var (n, channels, h, w) = (x.Tensor.shape[0], x.Tensor.shape[1] / (b * b), x.Tensor.shape[2], x.Tensor.shape[3]);
                return x.Tensor.reshape(n, b, b, channels, h, w).permute(0, 3, 4, 1, 5, 2).reshape(n, channels, h * b, w * b);
            }, x);
        }
        var sx = Lift(graph, x);
        Dim[] shape = [sx.Shape[0], Scaled(sx.Shape[1], b * b, true), Scaled(sx.Shape[2], b, false), Scaled(sx.Shape[3], b, false)];
        return Value.Symbolic(graph.Node("DepthToSpace").Input(sx).Attribute("blocksize", b).Attribute("mode", mode).Output(sx.ElementType, shape));
    }

    /// <summary>
    /// ONNX SpaceToDepth: [N, C, H·b, W·b] → [N, C·b², H, W], the channels ordered (row offset,
    /// column offset, channel) — the inverse of DCR <see cref="DepthToSpace(Value, long, string)"/>.
    /// torch pixel_unshuffle orders them (channel, row offset, column offset): see <see cref="PixelUnshuffle"/>.
    /// </summary>
    public static Value SpaceToDepth(Value x, long blocksize)
    {
        ArgumentNullException.ThrowIfNull(x);
        var b = blocksize;
        if (b <= 0 || x.Rank != 4) throw Refused("SpaceToDepth", $"SpaceToDepth takes [batch, channels, height, width] and a positive block size, got {Dim.Format(x.Shape)} and {b}", x);
        if (x.Shape.Skip(2).Any(d => d is { IsKnown: true } && d.Size % b != 0))
            throw Refused("SpaceToDepth", $"SpaceToDepth by {b} needs height and width divisible by {b}, got {Dim.Format(x.Shape)}", x);
        if (GraphOf(x) is not { } graph)
        {
            return Eager("SpaceToDepth", () =>
            {
                var (n, c, h, w) = (x.Tensor.shape[0], x.Tensor.shape[1], x.Tensor.shape[2] / b, x.Tensor.shape[3] / b);
                return x.Tensor.reshape(n, c, h, b, w, b).permute(0, 3, 5, 1, 2, 4).reshape(n, c * b * b, h, w);
            }, x);
        }
        var sx = Lift(graph, x);
        Dim[] shape = [sx.Shape[0], Scaled(sx.Shape[1], b * b, false), Scaled(sx.Shape[2], b, true), Scaled(sx.Shape[3], b, true)];
        return Value.Symbolic(graph.Node("SpaceToDepth").Input(sx).Attribute("blocksize", b).Output(sx.ElementType, shape));
    }

    /// <summary>A dimension multiplied or divided by a block size; unknown stays unknown.</summary>
    private static Dim Scaled(Dim d, long by, bool divide) => d.IsKnown ? Dim.Known(divide ? d.Size!.Value / by : d.Size!.Value * by) : Dim.Unknown;

    /// <summary>
    /// [N, C, H·r, W·r] → [N, C·r², H, W] (torch pixel_unshuffle). ONNX SpaceToDepth orders channels
    /// differently, so it exports as Reshape, Transpose, Reshape; channels, height and width must be known.
    /// </summary>
    public static Value PixelUnshuffle(Value x, long downscaleFactor)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (downscaleFactor <= 0 || x.Rank != 4) throw Refused("PixelUnshuffle", $"pixel_unshuffle takes [batch, channels, height, width] and a positive factor, got {Dim.Format(x.Shape)} and {downscaleFactor}", x);
        if (GraphOf(x) is not { } graph) return Eager("PixelUnshuffle", () => nn.functional.pixel_unshuffle(x.Tensor, downscaleFactor), x);
        var r = downscaleFactor;
        if (x.Shape.Skip(1).Any(d => !d.IsKnown) || x.Shape[2].Size % r != 0 || x.Shape[3].Size % r != 0)
            throw graph.Error($"pixel_unshuffle by {r} needs known channels, and height and width divisible by {r}, got {Dim.Format(x.Shape)}", "PixelUnshuffle");
        var (c, h, w) = (x.Shape[1].Size!.Value, x.Shape[2].Size!.Value / r, x.Shape[3].Size!.Value / r);
        return x.Reshape(-1, c, h, r, w, r).Permute(0, 1, 3, 5, 2, 4).Reshape(-1, c * r * r, h, w);
    }
}
