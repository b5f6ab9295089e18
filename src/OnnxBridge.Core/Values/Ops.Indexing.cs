using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Looking up rows and elements by index.</summary>
public static partial class Ops
{
    /// <summary>
    /// The rows of <paramref name="weight"/> [num_embeddings, dim] at the integer
    /// <paramref name="indices"/>, shaped [..indices, dim] (torch embedding, ONNX Gather axis 0). The
    /// row at <paramref name="paddingIndex"/> gets no gradient, as in PyTorch.
    /// </summary>
    public static Value Embedding(Value indices, Value weight, long? paddingIndex = null)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(weight);
        if (indices.ElementType is not (DataType.Int64 or DataType.Int32))
            throw Refused("Gather", $"embedding indices must be int64 or int32, got {ElementTypes.Name(indices.ElementType)}", indices);
        if (GraphOf(indices, weight) is not { } graph)
        {
            return Eager("Gather", () =>
            {
                var rows = weight.Tensor;
                if (paddingIndex is { } pad)
                {
                    // The padding row's value, cut off from autograd: PyTorch gives it no gradient.
                    var isPad = arange(rows.shape[0], device: rows.device).eq(pad < 0 ? pad + rows.shape[0] : pad).unsqueeze(1);
                    rows = where(isPad, rows.detach(), rows);
                }
                var flat = rows.index_select(0, indices.Tensor.flatten().to(ScalarType.Int64));
                return flat.reshape([.. indices.Tensor.shape, rows.shape[1]]);
            }, indices, weight);
        }
        var (si, sw) = (Lift(graph, indices), Lift(graph, weight));
        if (sw.Shape.Count != 2) throw graph.Error($"the embedding weight must be [num_embeddings, dim], got {Dim.Format(sw.Shape)}", "Gather");
        return Value.Symbolic(graph.Node("Gather").Input(sw, si).Attribute("axis", 0).Output(sw.ElementType, [.. si.Shape, sw.Shape[1]]));
    }
}
