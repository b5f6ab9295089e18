using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using DropoutLayer = OnnxBridge.Core.Layers.Dropout;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// PyTorch's <c>nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
/// layer_norm_eps, batch_first, norm_first)</c>: self-attention and a feed-forward network, each with
/// a residual connection and a LayerNorm (after, or before when norm_first), with PyTorch's children
/// and so its state-dict keys (<c>self_attn.in_proj_weight</c>, <c>linear1.weight</c>,
/// <c>norm1.weight</c>, ...). Activation "relu" or "gelu". As a block it takes the source sequence;
/// <see cref="Encode"/> takes the masks too.
/// </summary>
public sealed class TransformerEncoderLayer : Block
{
    private readonly DropoutLayer _dropout, _dropout1, _dropout2;

    public TransformerEncoderLayer(long dModel, long nhead, long dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
                                   double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false) : base(nameof(TransformerEncoderLayer))
    {
        (DModel, NHead, DimFeedforward, Dropout, Activation, LayerNormEps, BatchFirst, NormFirst) =
            (dModel, nhead, dimFeedforward, dropout, TransformerParts.CheckActivation(activation), layerNormEps, batchFirst, normFirst);
        SelfAttn = Register("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst));
        Linear1 = Register("linear1", new Linear(dModel, dimFeedforward));
        _dropout = Register("dropout", new DropoutLayer(dropout));
        Linear2 = Register("linear2", new Linear(dimFeedforward, dModel));
        Norm1 = Register("norm1", new LayerNorm(dModel, layerNormEps));
        Norm2 = Register("norm2", new LayerNorm(dModel, layerNormEps));
        _dropout1 = Register("dropout1", new DropoutLayer(dropout));
        _dropout2 = Register("dropout2", new DropoutLayer(dropout));
    }

    public long DModel { get; }

    public long NHead { get; }

    public long DimFeedforward { get; }

    /// <summary>The dropout probability of every dropout in the layer (attention weights included).</summary>
    public double Dropout { get; }

    /// <summary>"relu" or "gelu".</summary>
    public string Activation { get; }

    public double LayerNormEps { get; }

    public bool BatchFirst { get; }

    public bool NormFirst { get; }

    public MultiheadAttention SelfAttn { get; }

    public Linear Linear1 { get; }

    public Linear Linear2 { get; }

    public LayerNorm Norm1 { get; }

    public LayerNorm Norm2 { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => EncodeInScope(input, null, null, false);

    /// <summary>
    /// PyTorch's <c>forward(src, src_mask, src_key_padding_mask, is_causal)</c>: the masks as
    /// <see cref="MultiheadAttention.Attend"/> takes them; <paramref name="isCausal"/> masks later
    /// positions with a mask computed in the graph from the sequence length.
    /// </summary>
    public Value Encode(Value src, Value? srcMask = null, Value? srcKeyPaddingMask = null, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(src);
        return InScope(() => [EncodeInScope(src, srcMask, srcKeyPaddingMask, isCausal)])[0];
    }

    /// <summary>The forward, inside this block's scope already (<see cref="Block.Call"/> or <see cref="Encode"/> entered it).</summary>
    private Value EncodeInScope(Value src, Value? srcMask, Value? srcKeyPaddingMask, bool isCausal)
    {
        Value SelfAttention(Value x) => _dropout1.Call(SelfAttn.Attend(x, x, x, srcKeyPaddingMask, needWeights: false, srcMask, isCausal: isCausal).Output);
        Value FeedForward(Value x) => _dropout2.Call(TransformerParts.FeedForward(x, Linear1, _dropout, Linear2, Activation));
        var x = src;
        if (NormFirst)
        {
            x = x + SelfAttention(Norm1.Call(x));
            return x + FeedForward(Norm2.Call(x));
        }
        x = Norm1.Call(x + SelfAttention(x));
        return Norm2.Call(x + FeedForward(x));
    }

    /// <summary>A new layer of the same configuration holding copies of this one's parameters (PyTorch's deepcopy in TransformerEncoder).</summary>
    internal TransformerEncoderLayer Copy() =>
        TransformerParts.CopyParameters(this, new TransformerEncoderLayer(DModel, NHead, DimFeedforward, Dropout, Activation, LayerNormEps, BatchFirst, NormFirst));
}

/// <summary>
/// PyTorch's <c>nn.TransformerEncoder(encoder_layer, num_layers, norm)</c>: num_layers
/// copies of the layer (keys <c>layers.0.…</c>; as in PyTorch they start equal, copied from
/// encoder_layer, which itself is not part of the stack) and an optional final norm.
/// </summary>
public sealed class TransformerEncoder : Block
{
    public TransformerEncoder(TransformerEncoderLayer encoderLayer, long numLayers, LayerNorm? norm = null) : base(nameof(TransformerEncoder))
    {
        ArgumentNullException.ThrowIfNull(encoderLayer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        Layers = Register("layers", new ModuleList([.. Enumerable.Range(0, (int)numLayers).Select(_ => encoderLayer.Copy())]));
        if (norm is not null) Norm = Register("norm", norm);
    }

    public ModuleList Layers { get; }

    public LayerNorm? Norm { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => EncodeInScope(input, null, null, false);

    /// <summary>PyTorch's <c>forward(src, mask, src_key_padding_mask, is_causal)</c>: each layer's <see cref="TransformerEncoderLayer.Encode"/> in turn, then the norm.</summary>
    public Value Encode(Value src, Value? mask = null, Value? srcKeyPaddingMask = null, bool isCausal = false)
    {
        ArgumentNullException.ThrowIfNull(src);
        return InScope(() => [EncodeInScope(src, mask, srcKeyPaddingMask, isCausal)])[0];
    }

    private Value EncodeInScope(Value src, Value? mask, Value? srcKeyPaddingMask, bool isCausal)
    {
        var x = Layers.Cast<TransformerEncoderLayer>().Aggregate(src, (x, layer) => layer.Encode(x, mask, srcKeyPaddingMask, isCausal));
        return Norm is null ? x : Norm.Call(x);
    }
}

/// <summary>
/// PyTorch's <c>nn.TransformerDecoderLayer(d_model, nhead, dim_feedforward, dropout, activation,
/// layer_norm_eps, batch_first, norm_first)</c>: self-attention, attention over the encoder's memory
/// and a feed-forward network, each with a residual connection and a LayerNorm, with PyTorch's
/// children (<c>self_attn</c>, <c>multihead_attn</c>, <c>linear1</c>, <c>norm1</c>..<c>norm3</c>, ...).
/// As a block it takes (tgt, memory); <see cref="Decode"/> takes the masks too.
/// </summary>
public sealed class TransformerDecoderLayer : MultiInputBlock
{
    private readonly DropoutLayer _dropout, _dropout1, _dropout2, _dropout3;

    public TransformerDecoderLayer(long dModel, long nhead, long dimFeedforward = 2048, double dropout = 0.1, string activation = "relu",
                                   double layerNormEps = 1e-5, bool batchFirst = false, bool normFirst = false) : base(nameof(TransformerDecoderLayer))
    {
        (DModel, NHead, DimFeedforward, Dropout, Activation, LayerNormEps, BatchFirst, NormFirst) =
            (dModel, nhead, dimFeedforward, dropout, TransformerParts.CheckActivation(activation), layerNormEps, batchFirst, normFirst);
        SelfAttn = Register("self_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst));
        MultiheadAttn = Register("multihead_attn", new MultiheadAttention(dModel, nhead, dropout, batchFirst: batchFirst));
        Linear1 = Register("linear1", new Linear(dModel, dimFeedforward));
        _dropout = Register("dropout", new DropoutLayer(dropout));
        Linear2 = Register("linear2", new Linear(dimFeedforward, dModel));
        Norm1 = Register("norm1", new LayerNorm(dModel, layerNormEps));
        Norm2 = Register("norm2", new LayerNorm(dModel, layerNormEps));
        Norm3 = Register("norm3", new LayerNorm(dModel, layerNormEps));
        _dropout1 = Register("dropout1", new DropoutLayer(dropout));
        _dropout2 = Register("dropout2", new DropoutLayer(dropout));
        _dropout3 = Register("dropout3", new DropoutLayer(dropout));
    }

    public long DModel { get; }

    public long NHead { get; }

    public long DimFeedforward { get; }

    /// <summary>The dropout probability of every dropout in the layer (attention weights included).</summary>
    public double Dropout { get; }

    /// <summary>"relu" or "gelu".</summary>
    public string Activation { get; }

    public double LayerNormEps { get; }

    public bool BatchFirst { get; }

    public bool NormFirst { get; }

    public MultiheadAttention SelfAttn { get; }

    public MultiheadAttention MultiheadAttn { get; }

    public Linear Linear1 { get; }

    public Linear Linear2 { get; }

    public LayerNorm Norm1 { get; }

    public LayerNorm Norm2 { get; }

    public LayerNorm Norm3 { get; }

    /// <inheritdoc/>
    public override int InputCount => 2;

    /// <inheritdoc/>
    protected override Value Forward(IReadOnlyList<Value> inputs) => DecodeInScope(inputs[0], inputs[1], null, null, null, null, false, false);

    /// <summary>
    /// PyTorch's <c>forward(tgt, memory, tgt_mask, memory_mask, tgt_key_padding_mask,
    /// memory_key_padding_mask, tgt_is_causal, memory_is_causal)</c>; the causal flags mask with
    /// masks computed in the graph from the sequence lengths.
    /// </summary>
    public Value Decode(Value tgt, Value memory, Value? tgtMask = null, Value? memoryMask = null, Value? tgtKeyPaddingMask = null,
                        Value? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        return InScope(() => [DecodeInScope(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal)])[0];
    }

    private Value DecodeInScope(Value tgt, Value memory, Value? tgtMask, Value? memoryMask, Value? tgtKeyPaddingMask, Value? memoryKeyPaddingMask,
                                bool tgtIsCausal, bool memoryIsCausal)
    {
        Value SelfAttention(Value x) => _dropout1.Call(SelfAttn.Attend(x, x, x, tgtKeyPaddingMask, needWeights: false, tgtMask, isCausal: tgtIsCausal).Output);
        Value MemoryAttention(Value x) => _dropout2.Call(MultiheadAttn.Attend(x, memory, memory, memoryKeyPaddingMask, needWeights: false, memoryMask, isCausal: memoryIsCausal).Output);
        Value FeedForward(Value x) => _dropout3.Call(TransformerParts.FeedForward(x, Linear1, _dropout, Linear2, Activation));
        var x = tgt;
        if (NormFirst)
        {
            x = x + SelfAttention(Norm1.Call(x));
            x = x + MemoryAttention(Norm2.Call(x));
            return x + FeedForward(Norm3.Call(x));
        }
        x = Norm1.Call(x + SelfAttention(x));
        x = Norm2.Call(x + MemoryAttention(x));
        return Norm3.Call(x + FeedForward(x));
    }

    /// <summary>A new layer of the same configuration holding copies of this one's parameters.</summary>
    internal TransformerDecoderLayer Copy() =>
        TransformerParts.CopyParameters(this, new TransformerDecoderLayer(DModel, NHead, DimFeedforward, Dropout, Activation, LayerNormEps, BatchFirst, NormFirst));
}

/// <summary>PyTorch's <c>nn.TransformerDecoder(decoder_layer, num_layers, norm)</c>: copies of the layer (keys <c>layers.0.…</c>) and an optional final norm; takes (tgt, memory).</summary>
public sealed class TransformerDecoder : MultiInputBlock
{
    public TransformerDecoder(TransformerDecoderLayer decoderLayer, long numLayers, LayerNorm? norm = null) : base(nameof(TransformerDecoder))
    {
        ArgumentNullException.ThrowIfNull(decoderLayer);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        Layers = Register("layers", new ModuleList([.. Enumerable.Range(0, (int)numLayers).Select(_ => decoderLayer.Copy())]));
        if (norm is not null) Norm = Register("norm", norm);
    }

    public ModuleList Layers { get; }

    public LayerNorm? Norm { get; }

    /// <inheritdoc/>
    public override int InputCount => 2;

    /// <inheritdoc/>
    protected override Value Forward(IReadOnlyList<Value> inputs) => DecodeInScope(inputs[0], inputs[1], null, null, null, null, false, false);

    /// <summary>PyTorch's forward: each layer's <see cref="TransformerDecoderLayer.Decode"/> in turn, then the norm.</summary>
    public Value Decode(Value tgt, Value memory, Value? tgtMask = null, Value? memoryMask = null, Value? tgtKeyPaddingMask = null,
                        Value? memoryKeyPaddingMask = null, bool tgtIsCausal = false, bool memoryIsCausal = false)
    {
        ArgumentNullException.ThrowIfNull(tgt);
        ArgumentNullException.ThrowIfNull(memory);
        return InScope(() => [DecodeInScope(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal)])[0];
    }

    private Value DecodeInScope(Value tgt, Value memory, Value? tgtMask, Value? memoryMask, Value? tgtKeyPaddingMask, Value? memoryKeyPaddingMask,
                                bool tgtIsCausal, bool memoryIsCausal)
    {
        var x = Layers.Cast<TransformerDecoderLayer>().Aggregate(tgt, (x, layer) =>
            layer.Decode(x, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask, tgtIsCausal, memoryIsCausal));
        return Norm is null ? x : Norm.Call(x);
    }
}

/// <summary>What the encoder and decoder layers share.</summary>
internal static class TransformerParts
{
    public static string CheckActivation(string activation) =>
        activation is "relu" or "gelu" ? activation : throw new ArgumentException($"activation should be relu or gelu, not '{activation}'", nameof(activation));

    /// <summary>linear2(dropout(activation(linear1(x)))).</summary>
    public static Value FeedForward(Value x, Linear linear1, DropoutLayer dropout, Linear linear2, string activation)
    {
        var hidden = linear1.Call(x);
        return linear2.Call(dropout.Call(activation == "gelu" ? Ops.Gelu(hidden) : Ops.Relu(hidden)));
    }

    /// <summary>Copies <paramref name="source"/>'s parameters and mode into <paramref name="target"/> of the same configuration.</summary>
    public static T CopyParameters<T>(T source, T target) where T : Block
    {
        using (no_grad())
        {
            foreach (var ((_, from), (_, to)) in source.named_parameters().Zip(target.named_parameters())) to.copy_(from);
        }
        target.train(source.training);
        return target;
    }
}
