using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>Lazy batch, layer, group and instance normalization and embeddings as builder steps; each layer checks its own arguments.</summary>
public static class NormalizationExtensions
{
    /// <summary>Appends PyTorch's LazyBatchNorm1d: a <see cref="BatchNorm"/> over [batch, features] whose number of features comes from the first input.</summary>
    public static SequentialBuilder LazyBatchNorm1d(this SequentialBuilder builder) => Check(builder).AddLayer("LazyBatchNorm1d", () => new BatchNorm(null, 2));

    /// <summary>Appends PyTorch's LazyBatchNorm2d: a <see cref="BatchNorm"/> over [batch, channels, height, width] whose channels come from the first input.</summary>
    public static SequentialBuilder LazyBatchNorm2d(this SequentialBuilder builder) => Check(builder).AddLayer("LazyBatchNorm2d", () => new BatchNorm(null, 4));

    /// <summary>Appends PyTorch's LazyBatchNorm3d: a <see cref="BatchNorm"/> over [batch, channels, depth, height, width] whose channels come from the first input.</summary>
    public static SequentialBuilder LazyBatchNorm3d(this SequentialBuilder builder) => Check(builder).AddLayer("LazyBatchNorm3d", () => new BatchNorm(null, 5));

    /// <summary>Appends nn.LayerNorm(normalized_shape) over the last dimension.</summary>
    public static SequentialBuilder LayerNorm(this SequentialBuilder builder, long normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) =>
        LayerNorm(builder, [normalizedShape], eps, elementwiseAffine);

    /// <summary>Appends nn.LayerNorm(normalized_shape) over the last dimensions.</summary>
    public static SequentialBuilder LayerNorm(this SequentialBuilder builder, long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) =>
        Check(builder).AddLayer("LayerNorm", () => new LayerNorm(normalizedShape, eps, elementwiseAffine));

    /// <summary>Appends nn.LocalResponseNorm(size, alpha, beta, k).</summary>
    public static SequentialBuilder LocalResponseNorm(this SequentialBuilder builder, long size, double alpha = 1e-4, double beta = 0.75, double k = 1.0) =>
        Check(builder).AddLayer("LocalResponseNorm", () => new LocalResponseNorm(size, alpha, beta, k));

    /// <summary>Appends nn.GroupNorm(num_groups, num_channels).</summary>
    public static SequentialBuilder GroupNorm(this SequentialBuilder builder, long numGroups, long numChannels, double eps = 1e-5, bool affine = true) =>
        Check(builder).AddLayer("GroupNorm", () => new GroupNorm(numGroups, numChannels, eps, affine));

    /// <summary>Appends nn.InstanceNorm1d(num_features) for [batch, channels, length] inputs.</summary>
    public static SequentialBuilder InstanceNorm1d(this SequentialBuilder builder, long numFeatures, double eps = 1e-5, bool affine = false) =>
        Check(builder).AddLayer("InstanceNorm1d", () => new InstanceNorm(numFeatures, 3, eps, affine: affine));

    /// <summary>Appends nn.InstanceNorm2d(num_features) for [batch, channels, height, width] inputs.</summary>
    public static SequentialBuilder InstanceNorm2d(this SequentialBuilder builder, long numFeatures, double eps = 1e-5, bool affine = false) =>
        Check(builder).AddLayer("InstanceNorm2d", () => new InstanceNorm(numFeatures, 4, eps, affine: affine));

    /// <summary>Appends nn.Embedding(num_embeddings, embedding_dim, padding_idx).</summary>
    public static SequentialBuilder Embedding(this SequentialBuilder builder, long numEmbeddings, long embeddingDim, long? paddingIdx = null) =>
        Check(builder).AddLayer("Embedding", () => new Embedding(numEmbeddings, embeddingDim, paddingIdx));

    private static SequentialBuilder Check(SequentialBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder;
    }
}
