using static TorchSharp.torch;

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
}
