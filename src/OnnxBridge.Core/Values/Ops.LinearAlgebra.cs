using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Matrix products and triangles.</summary>
public static partial class Ops
{
    /// <summary>Matrix product with numpy's broadcasting of batch dimensions (torch.matmul, ONNX MatMul).</summary>
    public static Value MatMul(Value a, Value b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        if (GraphOf(a, b) is not { } graph) return Eager("MatMul", () => a.Tensor.matmul(b.Tensor), a, b);
        var (sa, sb) = (Lift(graph, a), Lift(graph, b));
        RequireSameType(graph, "MatMul", sa, sb);
        var shape = ShapeInference.MatMul(graph, sa.Shape, sb.Shape);
        return Value.Symbolic(graph.Node("MatMul").Input(sa, sb).Output(sa.ElementType, shape));
    }

    /// <summary>
    /// Sums of products over the letters of <paramref name="equation"/> (torch.einsum, ONNX Einsum):
    /// "ij,jk->ik" is a matrix product, "bhqd,bhkd->bhqk" attention scores, "...ij->...ji" a batched
    /// transpose, "ii" a trace. Operands of one element type; the equation is checked against their
    /// shapes in both modes, with the same error.
    /// </summary>
    public static Value Einsum(string equation, params Value[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        ArgumentNullException.ThrowIfNull(operands);
        if (operands.Length == 0) throw new ArgumentException("einsum takes at least one operand", nameof(operands));
        var (parsed, problem) = EinsumEquation.Parse(equation, [.. operands.Select(o => o.Shape)]);
        if (problem is not null) throw Refused("Einsum", problem, operands);
        if (operands.Any(o => o.ElementType != operands[0].ElementType))
            throw Refused("Einsum", $"einsum takes operands of one element type, got {string.Join(", ", operands.Select(o => ElementTypes.Name(o.ElementType)))}", operands);
        if (GraphOf(operands) is not { } graph) return Eager("Einsum", () => einsum(parsed!.Text, [.. operands.Select(o => o.Tensor)]), operands);
        var lifted = operands.Select(o => Lift(graph, o)).ToArray();
        return Value.Symbolic(graph.Node("Einsum").Input(lifted).Attribute("equation", parsed!.Text).Output(lifted[0].ElementType, parsed.OutputShape));
    }

    /// <summary>
    /// y = x·Wᵀ + b, PyTorch's linear layout (W is [out, in]). Records one Gemm for a matrix input,
    /// Transpose + MatMul + Add for inputs of other ranks.
    /// </summary>
    public static Value Linear(Value x, Value weight, Value? bias)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(weight);
        if (GraphOf(x, weight, bias) is not { } graph)
            return Eager("Gemm", () => nn.functional.linear(x.Tensor, weight.Tensor, bias?.Tensor), x, weight, bias);

        var (sx, sw) = (Lift(graph, x), Lift(graph, weight));
        RequireSameType(graph, "Gemm", sx, sw);
        if (sw.Shape.Count != 2) throw graph.Error($"weight must be a matrix [out, in], got {Dim.Format(sw.Shape)}", "Gemm");
        var (outFeatures, inFeatures) = (sw.Shape[0], sw.Shape[1]);
        if (sx.Shape.Count == 0 || (sx.Shape[^1].IsKnown && inFeatures.IsKnown && sx.Shape[^1].Size != inFeatures.Size))
            throw graph.Error($"input {Dim.Format(sx.Shape)} does not fit weight {Dim.Format(sw.Shape)}: the last dimension must be {inFeatures}", "Gemm");
        var outShape = sx.Shape.Take(sx.Shape.Count - 1).Append(outFeatures).ToArray();

        if (sx.Shape.Count == 2)
        {
            var gemm = graph.Node("Gemm").Input(sx, sw);
            if (bias is not null) gemm.Input(Lift(graph, bias));
            return Value.Symbolic(gemm.Attribute("transB", 1).Output(sx.ElementType, outShape));
        }
        var transposed = graph.Node("Transpose").Input(sw).Attribute("perm", [1, 0]).Output(sw.ElementType, [inFeatures, outFeatures]);
        var product = graph.Node("MatMul").Input(sx, transposed).Output(sx.ElementType, outShape);
        return bias is null ? Value.Symbolic(product) : Add(Value.Symbolic(product), bias);
    }

    /// <summary>The lower triangle of the last two dimensions, the rest zero; diagonal <paramref name="k"/> and below (torch.tril, ONNX Trilu).</summary>
    public static Value Tril(Value x, long k = 0) => Triangle(x, k, upper: false);

    /// <summary>The upper triangle of the last two dimensions, the rest zero; diagonal <paramref name="k"/> and above (torch.triu, ONNX Trilu).</summary>
    public static Value Triu(Value x, long k = 0) => Triangle(x, k, upper: true);

    private static Value Triangle(Value x, long k, bool upper)
    {
        ArgumentNullException.ThrowIfNull(x);
        if (x.Rank < 2) throw Refused("Trilu", $"takes a value of rank 2 or more, got {Dim.Format(x.Shape)}", x);
        if (GraphOf(x) is not { } graph) return Eager("Trilu", () => upper ? x.Tensor.triu(k) : x.Tensor.tril(k), x);
        if (graph.Opset < 14)
        {
            // Trilu exists from opset 14: before, keep where column − row is on the right side of k.
            var offset = Unsqueeze(Arange(Size(x, -1)), 0) - Unsqueeze(Arange(Size(x, -2)), 1);
            var keep = upper ? GreaterOrEqual(offset, ScalarLike(offset, k)) : LessOrEqual(offset, ScalarLike(offset, k));
            return Where(keep, x, ZerosLike(x));
        }
        var sx = Lift(graph, x);
        return Value.Symbolic(graph.Node("Trilu").Input(sx).Input(graph.Constant(HostTensor.Create([k]))).Attribute("upper", upper ? 1 : 0).Output(sx.ElementType, sx.Shape));
    }
}
