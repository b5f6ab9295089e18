using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Pooling.</summary>
public static partial class Ops
{
    /// <summary>2-D max pooling with a square window, no padding, floor mode (torch max_pool2d, ONNX MaxPool).</summary>
    public static Value MaxPool2d(Value x, long kernel, long stride)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph)
            return Eager("MaxPool", () => nn.functional.max_pool2d(x.Tensor, [kernel, kernel], strides: [stride, stride]), x);
        var sx = Lift(graph, x);
        if (sx.Shape.Count != 4) throw graph.Error($"MaxPool2d takes [batch, channels, height, width], got {Dim.Format(sx.Shape)}", "MaxPool");
        var shape = new[]
        {
            sx.Shape[0], sx.Shape[1],
            ShapeInference.Sliding(graph, "MaxPool", sx.Shape, 2, kernel, stride, 0),
            ShapeInference.Sliding(graph, "MaxPool", sx.Shape, 3, kernel, stride, 0),
        };
        return Value.Symbolic(graph.Node("MaxPool").Input(sx)
            .Attribute("kernel_shape", [kernel, kernel]).Attribute("strides", [stride, stride]).Attribute("pads", [0, 0, 0, 0])
            .Output(sx.ElementType, shape));
    }
}
