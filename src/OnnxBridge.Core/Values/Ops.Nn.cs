using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using AttributeType = OnnxBridge.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace OnnxBridge.Core.Values;

/// <summary>The neural-network operations: convolution, pooling, reshaping, normalization.</summary>
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
        var shape = new[] { sx.Shape[0], sw.Shape[0], SlidingSize(graph, "Conv", sx.Shape, 2, kernel, stride, padding), SlidingSize(graph, "Conv", sx.Shape, 3, kernel, stride, padding) };
        var inputs = bias is null ? new[] { sx, sw } : [sx, sw, Lift(graph, bias)];
        return Value.Symbolic(graph.AddNode("Conv", inputs, [(sx.ElementType, shape)],
            [Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", padding, padding, padding, padding), Ints("dilations", 1, 1), Int("group", 1)])[0]);
    }

    /// <summary>2-D max pooling with a square window, no padding, floor mode (torch max_pool2d, ONNX MaxPool).</summary>
    public static Value MaxPool2d(Value x, long kernel, long stride)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph)
            return Eager("MaxPool", () => nn.functional.max_pool2d(x.Tensor, [kernel, kernel], strides: [stride, stride]), x);
        var sx = Lift(graph, x);
        if (sx.Shape.Count != 4) throw graph.Error($"MaxPool2d takes [batch, channels, height, width], got {Dim.Format(sx.Shape)}", "MaxPool");
        var shape = new[] { sx.Shape[0], sx.Shape[1], SlidingSize(graph, "MaxPool", sx.Shape, 2, kernel, stride, 0), SlidingSize(graph, "MaxPool", sx.Shape, 3, kernel, stride, 0) };
        return Value.Symbolic(graph.AddNode("MaxPool", [sx], [(sx.ElementType, shape)],
            [Ints("kernel_shape", kernel, kernel), Ints("strides", stride, stride), Ints("pads", 0, 0, 0, 0)])[0]);
    }

    /// <summary>Keeps the first dimension and flattens the rest into one (torch.flatten(x, 1), ONNX Flatten axis=1).</summary>
    public static Value Flatten(Value x)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x) is not { } graph) return Eager("Flatten", () => x.Tensor.flatten(1), x);
        var sx = Lift(graph, x);
        if (sx.Shape.Count < 1) throw graph.Error("Flatten needs a tensor with a batch dimension, got a scalar", "Flatten");
        var rest = sx.Shape.Skip(1).ToArray();
        var size = rest.All(d => d.IsKnown) ? Dim.Known(rest.Aggregate(1L, (p, d) => p * d.Size!.Value)) : Dim.Unknown;
        return Value.Symbolic(graph.AddNode("Flatten", [sx], [(sx.ElementType, new[] { sx.Shape[0], size })], [Int("axis", 1)])[0]);
    }

    /// <summary>Keeps the first dimension and reshapes the rest to <paramref name="shape"/> (torch reshape, ONNX Reshape with 0 = copy).</summary>
    public static Value ReshapeBatch(Value x, IReadOnlyList<long> shape)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(shape);
        var perItem = shape.Aggregate(1L, (p, d) => p * d);
        if (GraphOf(x) is not { } graph)
        {
            var t = x.Tensor;
            var items = t.shape.Skip(1).Aggregate(1L, (p, d) => p * d);
            if (t.dim() < 1 || items != perItem)
                throw new ArgumentException($"cannot reshape [{string.Join(", ", t.shape)}] to [batch, {string.Join(", ", shape)}]: {items} elements per item, {perItem} needed");
            return Eager("Reshape", () => t.reshape([t.shape[0], .. shape]), x);
        }
        var sx = Lift(graph, x);
        var rest = sx.Shape.Skip(1).ToArray();
        if (sx.Shape.Count < 1 || (rest.All(d => d.IsKnown) && rest.Aggregate(1L, (p, d) => p * d.Size!.Value) != perItem))
            throw graph.Error($"cannot reshape {Dim.Format(sx.Shape)} to [batch, {string.Join(", ", shape)}]", "Reshape");
        var target = graph.Constant(HostTensor.Create<long>([0, .. shape], shape.Count + 1));
        Dim[] outShape = [sx.Shape[0], .. shape.Select(Dim.Known)];
        return Value.Symbolic(graph.AddNode("Reshape", [sx, target], [(sx.ElementType, outShape)])[0]);
    }

    /// <summary>
    /// Batch normalization with fixed statistics — the inference form (ONNX BatchNormalization);
    /// channels are dimension 1, as in PyTorch's BatchNorm1d/2d.
    /// </summary>
    public static Value BatchNormInference(Value x, Value scale, Value bias, Value mean, Value variance, double epsilon)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (GraphOf(x, scale, bias, mean, variance) is not { } graph)
            return Eager("BatchNormalization", () => nn.functional.batch_norm(x.Tensor, mean.Tensor, variance.Tensor, scale.Tensor, bias.Tensor, training: false, eps: epsilon), x, mean, variance, scale, bias);
        var sx = Lift(graph, x);
        if (sx.Shape.Count < 2) throw graph.Error($"BatchNorm takes [batch, channels, ...], got {Dim.Format(sx.Shape)}", "BatchNormalization");
        var eps = new AttributeProto { Name = "epsilon", Type = AttributeType.Float, F = (float)epsilon };
        return Value.Symbolic(graph.AddNode("BatchNormalization",
            [sx, Lift(graph, scale), Lift(graph, bias), Lift(graph, mean), Lift(graph, variance)], [(sx.ElementType, sx.Shape)], [eps])[0]);
    }

    /// <summary>floor((size + 2·padding − kernel) / stride) + 1 for a known size; unknown stays unknown.</summary>
    private static Dim SlidingSize(GraphRecorder graph, string op, IReadOnlyList<Dim> shape, int axis, long kernel, long stride, long padding)
    {
        if (!shape[axis].IsKnown) return Dim.Unknown;
        var padded = shape[axis].Size!.Value + 2 * padding;
        if (padded < kernel)
            throw graph.Error($"input {Dim.Format(shape)} is smaller than the {kernel}x{kernel} window at dimension {axis} (padding {padding})", op);
        return Dim.Known((padded - kernel) / stride + 1);
    }

    private static AttributeProto Ints(string name, params long[] values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return attribute;
    }

    private static AttributeProto Int(string name, long value) => new() { Name = name, Type = AttributeType.Int, I = value };
}
