using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Convolutions and padding.</summary>
public static partial class Ops
{
    /// <summary>
    /// 2-D convolution over [N, C, H, W] with a square kernel, PyTorch's weight layout
    /// [out, in, k, k] (torch.nn.functional.conv2d, ONNX Conv).
    /// </summary>
    public static Value Conv2d(Value x, Value weight, Value? bias, long stride, long padding) =>
        Conv(x, weight, bias, [stride, stride], [padding, padding], [padding, padding], [1, 1], 1);

    /// <summary>
    /// N-d convolution over [N, C, spatial...] (1, 2 or 3 spatial dimensions), PyTorch's weight
    /// layout [out, in/groups, k...], with padding given per side (<paramref name="padsBegin"/>,
    /// <paramref name="padsEnd"/>, one per spatial dimension) and filled as
    /// <paramref name="paddingMode"/> says: zeros (ONNX Conv pads), reflect, replicate or circular
    /// (an ONNX Pad first, modes reflect, edge and — from opset 19 — wrap).
    /// </summary>
    public static Value Conv(Value x, Value weight, Value? bias, long[] stride, long[] padsBegin, long[] padsEnd, long[] dilation, long groups, string paddingMode = "zeros")
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        var n = stride.Length;
        if (n is < 1 or > 3 || padsBegin.Length != n || padsEnd.Length != n || dilation.Length != n)
            throw new ArgumentException($"a convolution takes 1 to 3 spatial dimensions, with one stride, dilation and pair of pads each; got strides [{string.Join(", ", stride)}], pads [{string.Join(", ", padsBegin)}]/[{string.Join(", ", padsEnd)}], dilations [{string.Join(", ", dilation)}]");
        if (paddingMode != "zeros" && (padsBegin.Any(p => p != 0) || padsEnd.Any(p => p != 0)))
        {
            // Non-zero padding modes pad first, then convolve without padding (as PyTorch does).
            var padded = Pad(x, TorchPadOrder(padsBegin, padsEnd), paddingMode);
            return Conv(padded, weight, bias, stride, new long[n], new long[n], dilation, groups);
        }
        if (GraphOf(x, weight, bias) is not { } graph)
        {
            if (!padsBegin.SequenceEqual(padsEnd))
                return Conv(Pad(x, TorchPadOrder(padsBegin, padsEnd)), weight, bias, stride, new long[n], new long[n], dilation, groups);
            return Eager("Conv", () => n switch
            {
                1 => nn.functional.conv1d(x.Tensor, weight.Tensor, bias?.Tensor, stride[0], padsBegin[0], dilation[0], groups),
                2 => nn.functional.conv2d(x.Tensor, weight.Tensor, bias?.Tensor, stride, padsBegin, dilation, groups),
                _ => nn.functional.conv3d(x.Tensor, weight.Tensor, bias?.Tensor, stride, padsBegin, dilation, groups),
            }, x, weight, bias);
        }

        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "Conv", sx, sw);
        if (sx.Shape.Count != n + 2) throw graph.Error($"a {n}-d convolution takes [batch, channels, {n} spatial dimensions], got {Dim.Format(sx.Shape)}", "Conv");
        if (sw.Shape.Count != n + 2 || !sw.Shape.All(d => d.IsKnown))
            throw graph.Error($"the weight must be [out, in/groups, {n} kernel sizes] with known sizes, got {Dim.Format(sw.Shape)}", "Conv");
        if (sx.Shape[1].IsKnown && sx.Shape[1].Size != sw.Shape[1].Size * groups)
            throw graph.Error($"input {Dim.Format(sx.Shape)} has {sx.Shape[1]} channels but the weight {Dim.Format(sw.Shape)} with {groups} groups expects {sw.Shape[1].Size * groups}", "Conv");
        var kernel = sw.Shape.Skip(2).Select(d => d.Size!.Value).ToArray();
        var shape = new Dim[n + 2];
        (shape[0], shape[1]) = (sx.Shape[0], sw.Shape[0]);
        for (int i = 0; i < n; i++)
            shape[i + 2] = ShapeInference.Convolved(graph, "Conv", sx.Shape, i + 2, kernel[i], stride[i], padsBegin[i], padsEnd[i], dilation[i], ceil: false);
        var conv = graph.Node("Conv").Input(sx, sw);
        if (bias is not null) conv.Input(Lift(graph, bias));
        return Value.Symbolic(conv
            .Attribute("kernel_shape", kernel).Attribute("strides", stride)
            .Attribute("pads", [.. padsBegin, .. padsEnd]).Attribute("dilations", dilation).Attribute("group", groups)
            .Output(sx.ElementType, shape));
    }

    /// <summary>
    /// Transposed convolution over [N, C, spatial...] (1 or 2 spatial dimensions), PyTorch's weight
    /// layout [in, out/groups, k...]; the output size is (in − 1)·stride − 2·padding +
    /// dilation·(k − 1) + output_padding + 1 (torch conv_transpose1d/2d, ONNX ConvTranspose).
    /// </summary>
    public static Value ConvTranspose(Value x, Value weight, Value? bias, long[] stride, long[] padding, long[] outputPadding, long[] dilation, long groups)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        var n = stride.Length;
        if (n is < 1 or > 2 || padding.Length != n || outputPadding.Length != n || dilation.Length != n)
            throw new ArgumentException($"a transposed convolution takes 1 or 2 spatial dimensions, with one stride, padding, output padding and dilation each");
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("ConvTranspose", () => n == 1
                ? nn.functional.conv_transpose1d(x.Tensor, weight.Tensor, bias?.Tensor, stride[0], padding[0], outputPadding[0], dilation[0], groups)
                : nn.functional.conv_transpose2d(x.Tensor, weight.Tensor, bias?.Tensor, stride, padding, outputPadding, dilation, groups), x, weight, bias);
        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "ConvTranspose", sx, sw);
        if (sx.Shape.Count != n + 2) throw graph.Error($"a {n}-d transposed convolution takes [batch, channels, {n} spatial dimensions], got {Dim.Format(sx.Shape)}", "ConvTranspose");
        if (sw.Shape.Count != n + 2 || !sw.Shape.All(d => d.IsKnown))
            throw graph.Error($"the weight must be [in, out/groups, {n} kernel sizes] with known sizes, got {Dim.Format(sw.Shape)}", "ConvTranspose");
        if (sx.Shape[1].IsKnown && sx.Shape[1].Size != sw.Shape[0].Size)
            throw graph.Error($"input {Dim.Format(sx.Shape)} has {sx.Shape[1]} channels but the weight {Dim.Format(sw.Shape)} expects {sw.Shape[0]}", "ConvTranspose");
        var kernel = sw.Shape.Skip(2).Select(d => d.Size!.Value).ToArray();
        var shape = new Dim[n + 2];
        (shape[0], shape[1]) = (sx.Shape[0], Dim.Known(sw.Shape[1].Size!.Value * groups));
        for (int i = 0; i < n; i++)
        {
            shape[i + 2] = sx.Shape[i + 2] is { IsKnown: true } size
                ? Dim.Known((size.Size!.Value - 1) * stride[i] - 2 * padding[i] + dilation[i] * (kernel[i] - 1) + outputPadding[i] + 1)
                : Dim.Unknown;
        }
        var node = graph.Node("ConvTranspose").Input(sx, sw);
        if (bias is not null) node.Input(Lift(graph, bias));
        return Value.Symbolic(node
            .Attribute("kernel_shape", kernel).Attribute("strides", stride).Attribute("pads", [.. padding, .. padding])
            .Attribute("output_padding", outputPadding).Attribute("dilations", dilation).Attribute("group", groups)
            .Output(sx.ElementType, shape));
    }

    /// <summary>
    /// Pads the last dimensions: <paramref name="pad"/> in PyTorch's order (last dimension first,
    /// before and after: <c>(left, right, top, bottom, ...)</c>), with <paramref name="mode"/>
    /// constant (<paramref name="value"/>), reflect, replicate or circular (torch.nn.functional.pad;
    /// ONNX Pad, modes constant, reflect, edge and, from opset 19, wrap).
    /// </summary>
    public static Value Pad(Value x, long[] pad, string mode = "constant", double value = 0)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(pad);
        if (pad.Length % 2 != 0 || pad.Length / 2 > x.Rank)
            throw Refused("Pad", $"padding [{string.Join(", ", pad)}] must give a before and after size for each of up to {x.Rank} last dimensions", x);
        var (torchMode, onnxMode) = mode switch
        {
            "constant" or "zeros" => (TorchSharp.PaddingModes.Constant, "constant"),
            "reflect" => (TorchSharp.PaddingModes.Reflect, "reflect"),
            "replicate" => (TorchSharp.PaddingModes.Replicate, "edge"),
            "circular" => (TorchSharp.PaddingModes.Circular, "wrap"),
            _ => throw Refused("Pad", $"padding mode '{mode}' is not constant, zeros, reflect, replicate or circular", x),
        };
        if (GraphOf(x) is not { } graph) return Eager("Pad", () => nn.functional.pad(x.Tensor, pad, torchMode, value), x);
        var sx = Lift(graph, x);
        if (onnxMode == "wrap" && graph.Opset < 19) throw graph.Error("circular padding needs ONNX Pad's wrap mode (opset 19 or later); export with a newer opset", "Pad");
        var rank = sx.Shape.Count;
        var begins = new long[rank];
        var ends = new long[rank];
        for (int i = 0; i < pad.Length / 2; i++)
            (begins[rank - 1 - i], ends[rank - 1 - i]) = (pad[2 * i], pad[2 * i + 1]);
        var shape = sx.Shape.Select((d, i) => d.IsKnown ? Dim.Known(d.Size!.Value + begins[i] + ends[i]) : Dim.Unknown).ToArray();
        var node = graph.Node("Pad").Input(sx).ConstantInput([.. begins, .. ends]);
        if (onnxMode == "constant") node.Input(Lift(graph, ScalarLike(x, value)));
        return Value.Symbolic(node.Attribute("mode", onnxMode).Output(sx.ElementType, shape));
    }

    /// <summary>ONNX-style pads (begins, ends, first spatial dimension first) in PyTorch's pad order.</summary>
    private static long[] TorchPadOrder(long[] begins, long[] ends) =>
        [.. Enumerable.Range(0, begins.Length).Reverse().SelectMany(i => new[] { begins[i], ends[i] })];
}
