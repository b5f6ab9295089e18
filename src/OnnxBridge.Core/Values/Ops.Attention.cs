using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// Attention as PyTorch 2 computes it (<c>F.scaled_dot_product_attention</c>) and the masks it
/// takes. Causal masks are computed from the sizes at run time, so one export serves every length.
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// softmax(q·kᵀ·scale + mask)·v over the last two dimensions — PyTorch's
    /// <c>F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)</c>.
    /// <paramref name="query"/> is [..., L, E], <paramref name="key"/> [..., S, E],
    /// <paramref name="value"/> [..., S, Ev]; the result is [..., L, Ev]. A bool
    /// <paramref name="attnMask"/> says which positions take part (true) and a floating-point one is
    /// added to the scores, both broadcast to [..., L, S]. <paramref name="isCausal"/> lets query i see
    /// keys 0..i (the top-left lower triangle of L×S), computed in the graph from L and S; it may be
    /// combined with a mask. <paramref name="scale"/> defaults to 1/√E. Dropout with probability
    /// <paramref name="dropoutP"/> applies to the attention weights when eager; an export records the
    /// inference form, as the dropout layers do.
    /// </summary>
    /// <remarks>Eagerly this runs libtorch's fused kernels (without a custom scale or dropout); exported it is MatMul, Softmax and MatMul.</remarks>
    public static Value ScaledDotProductAttention(Value query, Value key, Value value, Value? attnMask = null, double dropoutP = 0, bool isCausal = false, double? scale = null) =>
        Attention(query, key, value, attnMask, dropoutP, isCausal, scale, needWeights: false).Output;

    /// <summary>
    /// <see cref="ScaledDotProductAttention"/> that also gives the attention weights [..., L, S] when
    /// <paramref name="needWeights"/> (after dropout, as nn.MultiheadAttention returns them).
    /// </summary>
    internal static (Value Output, Value? Weights) Attention(Value query, Value key, Value value, Value? mask, double dropoutP, bool isCausal, double? scale, bool needWeights)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!(dropoutP >= 0 && dropoutP < 1)) throw new ArgumentOutOfRangeException(nameof(dropoutP), dropoutP, "the dropout probability must be in [0, 1)");
        const string op = "scaled_dot_product_attention";
        RequireFloat(query, op);
        if (query.Rank < 2 || key.Rank < 2 || value.Rank < 2)
            throw Refused(op, $"takes query [..., L, E], key [..., S, E] and value [..., S, Ev], got {Dim.Format(query.Shape)}, {Dim.Format(key.Shape)} and {Dim.Format(value.Shape)}", query, key, value);
        if (mask is not null && mask.ElementType != DataType.Bool && mask.ElementType != query.ElementType)
            throw Refused(op, $"takes a bool mask or one of the query's type ({ElementTypes.Name(query.ElementType)}), got {ElementTypes.Name(mask.ElementType)}", mask);

        // libtorch's fused kernel only without dropout: there it ran 1.6× faster than the explicit form
        // (forward and backward, [N, 4, 64, 64], 2 cores); with dropout it falls back to a math path
        // that ran 8–14 % slower than the explicit form below.
        if (!needWeights && scale is null && dropoutP == 0 && GraphOf(query, key, value, mask) is null)
        {
            // libtorch refuses an explicit mask together with is_causal, so the causal mask joins the given one here.
            var joined = isCausal && mask is not null ? Where(CausalKeep(query, key), AsAdditive(mask, query), ScalarLike(query, double.NegativeInfinity)) : mask;
            var causal = isCausal && mask is null;
            return (Eager(op, () => nn.functional.scaled_dot_product_attention(query.Tensor, key.Tensor, value.Tensor, joined?.Tensor, dropoutP, causal), query, key, value, mask), null);
        }

        var scores = MatMul(query, Transpose(key, -2, -1));
        scores = scale is { } s ? scores * s
            : query.Shape[^1].Size is { } e ? scores * (1 / Math.Sqrt(e))
            : scores * Rsqrt(To(Size(query, -1), query.ElementType));
        var minusInfinity = ScalarLike(scores, double.NegativeInfinity);
        if (isCausal) scores = Where(CausalKeep(query, key), scores, minusInfinity);
        if (mask is not null) scores = mask.ElementType == DataType.Bool ? Where(mask, scores, minusInfinity) : scores + mask;
        var weights = Softmax(scores, -1);
        if (dropoutP > 0 && !weights.IsSymbolic) weights = Eager("Dropout", () => nn.functional.dropout(weights.Tensor, dropoutP, training: true), weights);
        return (MatMul(weights, value), needWeights ? weights : null);
    }

    /// <summary>
    /// PyTorch's <c>nn.Transformer.generate_square_subsequent_mask(sz)</c>: a float [n, n] mask, 0 on
    /// and below the diagonal and −∞ above, for an int64 scalar <paramref name="length"/> (e.g.
    /// <c>Ops.Size(x, 1)</c>) — so computed at run time from the sequence length, not frozen at export.
    /// </summary>
    public static Value SquareSubsequentMask(Value length)
    {
        ArgumentNullException.ThrowIfNull(length);
        var positions = Arange(length);
        var keep = LessOrEqual(Unsqueeze(positions, 0), Unsqueeze(positions, 1));
        return Where(keep, Scalar(length, DataType.Float, 0), Scalar(length, DataType.Float, double.NegativeInfinity));
    }

    /// <summary>[L, S] bool: query i may see key j when j ≤ i (the top-left triangle, as PyTorch's is_causal).</summary>
    private static Value CausalKeep(Value query, Value key) =>
        LessOrEqual(Unsqueeze(Arange(Size(key, -2)), 0), Unsqueeze(Arange(Size(query, -2)), 1));

    /// <summary>A mask as values to add to the scores: a bool one becomes 0 where it takes part, −∞ where not.</summary>
    private static Value AsAdditive(Value mask, Value like) =>
        mask.ElementType == DataType.Bool ? Where(mask, ScalarLike(like, 0), ScalarLike(like, double.NegativeInfinity)) : mask;
}
