using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Convolutions.</summary>
public static partial class Ops
{
    /// <summary>
    /// 2-D convolution over [N, C, H, W] with a square kernel, PyTorch's weight layout
    /// [out, in, k, k] (torch.nn.functional.conv2d, ONNX Conv).
    /// </summary>
    public static Value Conv2d(Value x, Value weight, Value? bias, long stride, long padding)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("Conv", () => nn.functional.conv2d(x.Tensor, weight.Tensor, bias?.Tensor, strides: [stride, stride], padding: [padding, padding]), x, weight, bias);

        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "Conv", sx, sw);
        if (sx.Shape.Count != 4) throw graph.Error($"Conv2d takes [batch, channels, height, width], got {Dim.Format(sx.Shape)}", "Conv");
        if (sw.Shape.Count != 4 || !sw.Shape.All(d => d.IsKnown))
            throw graph.Error($"the weight must be [out, in, k, k] with known sizes, got {Dim.Format(sw.Shape)}", "Conv");
        var kernel = sw.Shape[2].Size!.Value;
        if (sx.Shape[1].IsKnown && sx.Shape[1].Size != sw.Shape[1].Size)
            throw graph.Error($"input {Dim.Format(sx.Shape)} has {sx.Shape[1]} channels but the weight {Dim.Format(sw.Shape)} expects {sw.Shape[1]}", "Conv");
        var shape = new[]
        {
            sx.Shape[0], sw.Shape[0],
            ShapeInference.Sliding(graph, "Conv", sx.Shape, 2, kernel, stride, padding),
            ShapeInference.Sliding(graph, "Conv", sx.Shape, 3, kernel, stride, padding),
        };
        var conv = graph.Node("Conv").Input(sx, sw);
        if (bias is not null) conv.Input(Lift(graph, bias));
        return Value.Symbolic(conv
            .Attribute("kernel_shape", [kernel, kernel]).Attribute("strides", [stride, stride])
            .Attribute("pads", [padding, padding, padding, padding]).Attribute("dilations", [1, 1]).Attribute("group", 1)
            .Output(sx.ElementType, shape));
    }
}
