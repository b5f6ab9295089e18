using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// PyTorch's <c>nn.MultiheadAttention(embed_dim, num_heads, dropout, bias, kdim, vdim, batch_first)</c>
/// with its parameters, initialization and state-dict keys: <c>in_proj_weight</c> [3E, E] (or
/// <c>q_proj_weight</c>, <c>k_proj_weight</c> [E, kdim], <c>v_proj_weight</c> [E, vdim] when kdim or
/// vdim differ from E), <c>in_proj_bias</c> [3E], <c>out_proj.weight</c>, <c>out_proj.bias</c>; the
/// projections Xavier-uniform, the biases zero. <see cref="Attend"/> is PyTorch's forward; as a block
/// it takes (query, key, value) and gives the output and the head-averaged weights. Inputs are
/// [L, N, E] ([N, L, E] when batch_first) or unbatched [L, E]. add_bias_kv and add_zero_attn are not
/// offered.
/// </summary>
public sealed class MultiheadAttention : MultiOutputBlock
{
    public MultiheadAttention(long embedDim, long numHeads, double dropout = 0, bool bias = true, long? kdim = null, long? vdim = null, bool batchFirst = false)
        : base(nameof(MultiheadAttention))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embedDim);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numHeads);
        if (embedDim % numHeads != 0) throw new ArgumentException($"embed_dim {embedDim} must be divisible by num_heads {numHeads}", nameof(numHeads));
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "the dropout probability must be in [0, 1)");
        (EmbedDim, NumHeads, Dropout, HasBias, KDim, VDim, BatchFirst) = (embedDim, numHeads, dropout, bias, kdim ?? embedDim, vdim ?? embedDim, batchFirst);
        if (KDim <= 0 || VDim <= 0) throw new ArgumentOutOfRangeException(kdim <= 0 ? nameof(kdim) : nameof(vdim), "kdim and vdim must be positive");

        Parameter Xavier(string name, long rows, long columns) => RegisterParameter(name, nn.init.xavier_uniform_(empty(rows, columns)));
        using (no_grad())
        {
            if (SameEmbedDims) InProjWeight = Xavier("in_proj_weight", 3 * embedDim, embedDim);
            else (QProjWeight, KProjWeight, VProjWeight) = (Xavier("q_proj_weight", embedDim, embedDim), Xavier("k_proj_weight", embedDim, KDim), Xavier("v_proj_weight", embedDim, VDim));
            if (bias) InProjBias = RegisterParameter("in_proj_bias", zeros(3 * embedDim));
            OutProj = Register("out_proj", new Linear(embedDim, embedDim, bias));
            OutProj.Bias?.zero_();
        }
    }

    public long EmbedDim { get; }

    public long NumHeads { get; }

    public long HeadDim => EmbedDim / NumHeads;

    public double Dropout { get; }

    public bool HasBias { get; }

    public long KDim { get; }

    public long VDim { get; }

    public bool BatchFirst { get; }

    /// <summary>Whether keys and values have E features, so one <c>in_proj_weight</c> holds the three projections.</summary>
    public bool SameEmbedDims => KDim == EmbedDim && VDim == EmbedDim;

    public Parameter? InProjWeight { get; }

    public Parameter? QProjWeight { get; }

    public Parameter? KProjWeight { get; }

    public Parameter? VProjWeight { get; }

    public Parameter? InProjBias { get; }

    public Linear OutProj { get; }

    /// <inheritdoc/>
    public override int InputCount => 3;

    /// <inheritdoc/>
    public override int OutputCount => 2;

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        // CallAll has entered this block's scope already; Attend would enter it again.
        var (output, weights) = Compute(inputs[0], inputs[1], inputs[2], keyPaddingMask: null, needWeights: true, attnMask: null, average: true, isCausal: false);
        return [output, weights!];
    }

    /// <summary>
    /// PyTorch's <c>forward(query, key, value, key_padding_mask, need_weights, attn_mask,
    /// average_attn_weights)</c>. <paramref name="keyPaddingMask"/> [N, S]: true (or −∞ when float)
    /// marks keys to ignore. <paramref name="attnMask"/> [L, S] or [N·heads, L, S]: true marks pairs
    /// that may not attend; a float one is added. <paramref name="isCausal"/> (PyTorch 2's flag) adds
    /// the causal mask, computed in the graph from L and S. Returns the output [L, N, E] and, when
    /// <paramref name="needWeights"/>, the weights [N, L, S] averaged over heads ([N, heads, L, S] when
    /// not <paramref name="averageAttnWeights"/>). Dropout of the weights in training mode only.
    /// </summary>
    public (Value Output, Value? Weights) Attend(Value query, Value key, Value value, Value? keyPaddingMask = null, bool needWeights = true,
                                                 Value? attnMask = null, bool averageAttnWeights = true, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        var results = InScope(() =>
        {
            var (output, weights) = Compute(query, key, value, keyPaddingMask, needWeights, attnMask, averageAttnWeights, isCausal);
            return weights is null ? [output] : [output, weights];
        });
        return (results[0], results.Count > 1 ? results[1] : null);
    }

    private (Value Output, Value? Weights) Compute(Value query, Value key, Value value, Value? keyPaddingMask, bool needWeights, Value? attnMask, bool average, bool isCausal)
    {
        var batched = query.Rank == 3;
        if (query.Rank is not (2 or 3) || key.Rank != query.Rank || value.Rank != query.Rank)
            throw new ArgumentException($"MultiheadAttention takes query, key and value of rank 3 ([L, N, E]{(BatchFirst ? ", batch first" : "")}) or 2 (unbatched), got {Dim.Format(query.Shape)}, {Dim.Format(key.Shape)} and {Dim.Format(value.Shape)}");
        var selfAttention = ReferenceEquals(query, key) && ReferenceEquals(key, value);
        // Project in the input's own layout ([L, N, E] time-major, [N, L, E] batch first; unbatched as a
        // batch of one, batch first) and move to [N, heads, L, D] only when splitting the heads: a
        // linear over a permuted input would copy it first, and the output would leave permuted.
        var timeMajor = batched && !BatchFirst;
        Value Batched(Value x) => batched ? x : Ops.Unsqueeze(x, 0);
        var q = Batched(query);
        var (k, v) = selfAttention ? (q, q) : (Batched(key), Batched(value));
        if (keyPaddingMask is not null && !batched) keyPaddingMask = Ops.Unsqueeze(keyPaddingMask, 0);

        Value[] projected;   // q, k, v in the input's layout
        if (SameEmbedDims && selfAttention) projected = Ops.Chunk(Ops.Linear(q, Use(InProjWeight!), InProjBias is null ? null : Use(InProjBias)), 3, -1);
        else
        {
            var w = SameEmbedDims ? Ops.Chunk(Use(InProjWeight!), 3, 0) : [Use(QProjWeight!), Use(KProjWeight!), Use(VProjWeight!)];
            var b = InProjBias is null ? null : Ops.Chunk(Use(InProjBias), 3, 0);
            projected = [Ops.Linear(q, w[0], b?[0]), Ops.Linear(k, w[1], b?[1]), Ops.Linear(v, w[2], b?[2])];
        }

        Value Heads(Value x) => Ops.Permute(Ops.Unflatten(x, -1, NumHeads, HeadDim), timeMajor ? [1, 2, 0, 3] : [0, 2, 1, 3]);   // [N, heads, L, D]
        var mask = CombinedMask(attnMask, keyPaddingMask, q);
        var (attended, weights) = Ops.Attention(Heads(projected[0]), Heads(projected[1]), Heads(projected[2]), mask, training ? Dropout : 0, isCausal, scale: null, needWeights);
        var output = OutProj.Call(Ops.Flatten(Ops.Permute(attended, timeMajor ? [2, 0, 1, 3] : [0, 2, 1, 3]), -2, -1));   // back to the input's layout
        if (!batched) output = Ops.Squeeze(output, 0);
        if (weights is null) return (output, null);
        if (average) weights = Ops.Mean(weights, [1]);
        return (output, batched ? weights : Ops.Squeeze(weights, 0));
    }

    /// <summary>
    /// attn_mask and key_padding_mask as one additive mask broadcast to [N, heads, L, S]: PyTorch's
    /// bool masks mark what may <em>not</em> attend, so true becomes −∞; float masks are added as given.
    /// </summary>
    private Value? CombinedMask(Value? attnMask, Value? keyPaddingMask, Value like)
    {
        Value Additive(Value m, string name) =>
            m.ElementType == DataType.Bool ? Ops.Where(m, Ops.ScalarLike(like, double.NegativeInfinity), Ops.ScalarLike(like, 0))
            : m.ElementType == like.ElementType ? m
            : throw new ArgumentException($"{name} must be bool or {Onnx.Tensors.ElementTypes.Name(like.ElementType)} like the query, got {Onnx.Tensors.ElementTypes.Name(m.ElementType)}");
        Value? mask = null;
        if (attnMask is not null)
        {
            mask = attnMask.Rank switch
            {
                2 => Additive(attnMask, "attn_mask"),
                3 => Ops.Unflatten(Additive(attnMask, "attn_mask"), 0, -1, NumHeads),
                _ => throw new ArgumentException($"attn_mask must be [L, S] or [N·num_heads, L, S], got {Dim.Format(attnMask.Shape)}"),
            };
        }
        if (keyPaddingMask is not null)
        {
            if (keyPaddingMask.Rank != 2) throw new ArgumentException($"key_padding_mask must be [N, S] (or [S] unbatched), got {Dim.Format(keyPaddingMask.Shape)}");
            var padding = Ops.Unsqueeze(Ops.Unsqueeze(Additive(keyPaddingMask, "key_padding_mask"), 1), 1);   // [N, 1, 1, S]
            mask = mask is null ? padding : mask + padding;
        }
        return mask;
    }
}
