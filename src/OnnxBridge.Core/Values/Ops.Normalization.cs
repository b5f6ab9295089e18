using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Normalization.</summary>
public static partial class Ops
{
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
        return Value.Symbolic(graph.Node("BatchNormalization")
            .Input(sx, Lift(graph, scale), Lift(graph, bias), Lift(graph, mean), Lift(graph, variance))
            .Attribute("epsilon", (float)epsilon)
            .Output(sx.ElementType, sx.Shape));
    }

    /// <summary>
    /// Divides each element by (k + α/n · the sum of squares over a window of n channels around it)^β,
    /// channels being dimension 1 of [N, C, ...] (torch local_response_norm, ONNX LRN). ONNX centres an
    /// even window one channel later than PyTorch, so only odd sizes export, and only 3- and 4-dimensional
    /// inputs (ONNX Runtime's LRN takes 4).
    /// </summary>
    public static Value LocalResponseNorm(Value x, long size, double alpha = 1e-4, double beta = 0.75, double k = 1.0)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, "LRN");
        if (size <= 0 || x.Rank < 3)
            throw Refused("LRN", $"local_response_norm takes [batch, channels, ...] (3 dimensions or more) and a positive size, got {Dim.Format(x.Shape)} and size {size}", x);
        if (GraphOf(x) is not { } graph) return Eager("LRN", () => nn.functional.local_response_norm(x.Tensor, size, alpha, beta, k), x);
        if (size % 2 == 0)
            throw graph.Error($"local_response_norm of size {size} does not export: for an even size ONNX's LRN centres its window one channel later than PyTorch's; use an odd size", "LRN");
        // ONNX Runtime's LRN takes [N, C, H, W] only; a window across channels does not care about the rest.
        if (x.Rank == 3) return Squeeze(LocalResponseNorm(Unsqueeze(x, 3), size, alpha, beta, k), 3);
        if (x.Rank != 4) throw graph.Error($"local_response_norm of a {x.Rank}-dimensional input does not export: ONNX Runtime's LRN takes 4 dimensions (3 are unsqueezed to 4)", "LRN");
        var sx = Lift(graph, x);
        return Value.Symbolic(graph.Node("LRN").Input(sx).Attribute("size", size).Attribute("alpha", (float)alpha).Attribute("beta", (float)beta)
            .Attribute("bias", (float)k).Output(sx.ElementType, sx.Shape));
    }

    /// <summary>
    /// Normalizes over the last dimensions, <paramref name="normalizedShape"/>, with optional
    /// element-wise affine parameters of that shape (torch layer_norm; ONNX LayerNormalization from
    /// opset 17, ReduceMean/Sub/Mul/Sqrt/Div before it).
    /// </summary>
    public static Value LayerNorm(Value x, long[] normalizedShape, Value? weight, Value? bias, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        RequireFloat(x, "LayerNormalization");
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("LayerNormalization", () => nn.functional.layer_norm(x.Tensor, normalizedShape, weight?.Tensor, bias?.Tensor, epsilon), x, weight, bias);
        var sx = Lift(graph, x);
        var rank = sx.Shape.Count;
        var tail = sx.Shape.Skip(rank - normalizedShape.Length).ToArray();
        if (normalizedShape.Length == 0 || normalizedShape.Length > rank || tail.Zip(normalizedShape).Any(p => p.First.IsKnown && p.First.Size != p.Second))
            throw graph.Error($"normalized_shape [{string.Join(", ", normalizedShape)}] must be the last dimensions of the input {Dim.Format(sx.Shape)}", "LayerNormalization");
        if (graph.Opset >= 17)
        {
            // ONNX requires the scale: ones when the layer has no affine parameters.
            var scale = weight is not null ? Lift(graph, weight) : graph.Constant(Filled(graph, "LayerNormalization", sx.ElementType, normalizedShape, 1));
            var node = graph.Node("LayerNormalization").Input(sx, scale);
            if (bias is not null) node.Input(Lift(graph, bias));
            return Value.Symbolic(node.Attribute("axis", -normalizedShape.Length).Attribute("epsilon", (float)epsilon).Output(sx.ElementType, sx.Shape));
        }
        long[] axes = [.. Enumerable.Range(rank - normalizedShape.Length, normalizedShape.Length).Select(a => (long)a)];
        var centered = x - Mean(x, axes, keepdim: true);
        var normalized = centered / (Mean(centered * centered, axes, keepdim: true) + epsilon).Sqrt();
        if (weight is not null) normalized *= weight;
        return bias is null ? normalized : normalized + bias;
    }

    /// <summary>
    /// Normalizes each of <paramref name="groups"/> groups of channels (dimension 1) over its channels
    /// and spatial positions, then applies per-channel affine parameters (torch group_norm; ONNX:
    /// Reshape to [N, G, -1], the moments, Reshape back).
    /// </summary>
    public static Value GroupNorm(Value x, long groups, Value? weight, Value? bias, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, "GroupNorm");
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("GroupNorm", () => nn.functional.group_norm(x.Tensor, groups, weight?.Tensor, bias?.Tensor, epsilon), x, weight, bias);
        var sx = Lift(graph, x);
        if (sx.Shape.Count < 2) throw graph.Error($"GroupNorm takes [batch, channels, ...], got {Dim.Format(sx.Shape)}", "GroupNorm");
        if (sx.Shape[1] is { IsKnown: true } channels && channels.Size % groups != 0)
            throw graph.Error($"{channels} channels cannot be split into {groups} groups", "GroupNorm");
        // ONNX Reshape's 0 copies the batch size; the original shape comes back from Shape(x).
        var grouped = Value.Symbolic(graph.Node("Reshape").Input(sx).ConstantInput(0, groups, -1).Output(sx.ElementType, [sx.Shape[0], Dim.Known(groups), Dim.Unknown]));
        var centered = grouped - Mean(grouped, [2], keepdim: true);
        var normalized = Lift(graph, centered / (Mean(centered * centered, [2], keepdim: true) + epsilon).Sqrt());
        var shape = graph.Node("Shape").Input(sx).Output(DataType.Int64, [Dim.Known(sx.Shape.Count)]);
        var result = Value.Symbolic(graph.Node("Reshape").Input(normalized, shape).Output(sx.ElementType, sx.Shape));
        var perChannel = Enumerable.Repeat(1L, sx.Shape.Count - 2).Prepend(-1L).ToArray();
        if (weight is not null) result *= Reshape(weight, perChannel);
        return bias is null ? result : result + Reshape(bias, perChannel);
    }

    /// <summary>
    /// Normalizes each channel of each sample over its spatial positions, with optional per-channel
    /// affine parameters (torch instance_norm without running statistics, ONNX InstanceNormalization).
    /// </summary>
    public static Value InstanceNorm(Value x, Value? weight, Value? bias, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(x);
        RequireFloat(x, "InstanceNormalization");
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("InstanceNormalization", () => nn.functional.instance_norm(x.Tensor, weight: weight?.Tensor, bias: bias?.Tensor, use_input_stats: true, eps: epsilon), x, weight, bias);
        var sx = Lift(graph, x);
        if (sx.Shape.Count < 3 || !sx.Shape[1].IsKnown)
            throw graph.Error($"InstanceNorm takes [batch, channels, ...] with a known channel count, got {Dim.Format(sx.Shape)}", "InstanceNormalization");
        long[] channels = [sx.Shape[1].Size!.Value];
        // ONNX requires scale and bias: ones and zeros when the layer has no affine parameters.
        var scale = weight is not null ? Lift(graph, weight) : graph.Constant(Filled(graph, "InstanceNormalization", sx.ElementType, channels, 1));
        var shift = bias is not null ? Lift(graph, bias) : graph.Constant(Filled(graph, "InstanceNormalization", sx.ElementType, channels, 0));
        return Value.Symbolic(graph.Node("InstanceNormalization").Input(sx, scale, shift).Attribute("epsilon", (float)epsilon).Output(sx.ElementType, sx.Shape));
    }
}
