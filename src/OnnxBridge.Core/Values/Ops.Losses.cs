using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Classification losses, so that a graph computing its own loss trains and exports (ONNX NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).</summary>
public static partial class Ops
{
    /// <summary>
    /// The negative log-likelihood of <paramref name="target"/> classes (int64, [N, d…]) under
    /// log-probabilities <paramref name="input"/> ([N, C, d…]), optionally weighted per class, with
    /// targets equal to <paramref name="ignoreIndex"/> left out; <paramref name="reduction"/> is
    /// "mean" (divided by the total weight of the targets kept), "sum" or "none" (torch.nn.functional.nll_loss).
    /// </summary>
    public static Value NllLoss(Value input, Value target, Value? weight = null, string reduction = "mean", long? ignoreIndex = null) =>
        ClassificationLoss("NegativeLogLikelihoodLoss", input, target, weight, reduction, ignoreIndex, logSoftmaxFirst: false);

    /// <summary>
    /// Cross-entropy of raw scores <paramref name="input"/> ([N, C, d…]) against <paramref name="target"/>
    /// classes: log-softmax over dimension 1, then <see cref="NllLoss"/> (torch.nn.functional.cross_entropy).
    /// </summary>
    public static Value CrossEntropy(Value input, Value target, Value? weight = null, string reduction = "mean", long? ignoreIndex = null) =>
        ClassificationLoss("SoftmaxCrossEntropyLoss", input, target, weight, reduction, ignoreIndex, logSoftmaxFirst: true);

    private static Value ClassificationLoss(string op, Value input, Value target, Value? weight, string reduction, long? ignoreIndex, bool logSoftmaxFirst)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        if (reduction is not ("mean" or "sum" or "none")) throw new ArgumentException($"reduction '{reduction}' is not one of mean, sum, none", nameof(reduction));
        RequireFloat(input, op);
        if (target.ElementType is not (DataType.Int64 or DataType.Int32)) throw Refused(op, $"targets must be int64 or int32 class indices, got {ElementTypes.Name(target.ElementType)}", target);
        if (input.Rank < 2 || target.Rank != input.Rank - 1) throw Refused(op, $"scores {Dim.Format(input.Shape)} must be [N, C, d...] with targets [N, d...], got targets {Dim.Format(target.Shape)}", input, target);
        if (GraphOf(input, target, weight) is not { } graph)
            return Eager(op, () => EagerLoss(logSoftmaxFirst ? input.Tensor.log_softmax(1) : input.Tensor, target.Tensor, weight?.Tensor, reduction, ignoreIndex), input, target);
        var (sx, st) = (Lift(graph, input), Lift(graph, target));
        var node = graph.Node(op).Input(sx, st).OptionalInput(weight is null ? null : Lift(graph, weight)).Attribute("reduction", reduction);
        if (ignoreIndex is { } ignore) node = node.Attribute("ignore_index", ignore);
        return Value.Symbolic(node.Output(sx.ElementType, reduction == "none" ? st.Shape : []));
    }

    /// <summary>PyTorch's nll_loss, written out because TorchSharp's has no ignore_index.</summary>
    private static Tensor EagerLoss(Tensor logProbabilities, Tensor target, Tensor? weight, string reduction, long? ignoreIndex)
    {
        using var scope = NewDisposeScope();
        target = target.to(ScalarType.Int64);
        var keep = ignoreIndex is { } ignore ? target.ne(ignore) : ones_like(target, ScalarType.Bool);
        var safe = where(keep, target, zeros_like(target));
        var picked = logProbabilities.gather(1, safe.unsqueeze(1)).squeeze(1).neg();
        var weights = (weight is null ? ones_like(picked) : weight.index_select(0, safe.flatten()).reshape(safe.shape)) * keep.to(picked.dtype);
        var losses = picked * weights;
        var result = reduction switch
        {
            "none" => losses,
            "sum" => losses.sum(),
            _ => losses.sum() / weights.sum(),
        };
        return result.MoveToOuterDisposeScope();
    }
}
