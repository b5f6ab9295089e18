using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.Embedding(num_embeddings, embedding_dim, padding_idx=None): a lookup table <c>weight</c>
/// [num_embeddings, embedding_dim] drawn from N(0, 1), its padding row zero and kept out of
/// training (no gradient). Takes int64 (or int32) indices of any shape; gives [..., embedding_dim].
/// </summary>
public sealed class Embedding : Block
{
    public Embedding(long numEmbeddings, long embeddingDim, long? paddingIdx = null) : base(nameof(Embedding))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numEmbeddings);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingDim);
        if (paddingIdx is { } p && (p >= numEmbeddings || p < -numEmbeddings))
            throw new ArgumentOutOfRangeException(nameof(paddingIdx), p, $"padding_idx must be within num_embeddings ({numEmbeddings})");
        (NumEmbeddings, EmbeddingDim) = (numEmbeddings, embeddingDim);
        PaddingIdx = paddingIdx is { } q && q < 0 ? q + numEmbeddings : paddingIdx; // PyTorch stores it non-negative
        using var noGrad = no_grad();
        var weight = randn(numEmbeddings, embeddingDim);
        if (PaddingIdx is { } row) weight[row].zero_();
        Weight = RegisterParameter("weight", weight);
    }

    public long NumEmbeddings { get; }

    public long EmbeddingDim { get; }

    public long? PaddingIdx { get; }

    public Parameter Weight { get; }

    protected override Value Forward(Value input) => Ops.Embedding(input, Use(Weight), PaddingIdx);

    protected override string ExtraRepr => $"{NumEmbeddings}, {EmbeddingDim}{(PaddingIdx is { } p ? $", padding_idx={p}" : "")}";
}
