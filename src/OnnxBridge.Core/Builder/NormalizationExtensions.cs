using System.Globalization;
using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>Layer, group and instance normalization and embeddings as builder steps.</summary>
public static class NormalizationExtensions
{
    /// <summary>Appends nn.LayerNorm(normalized_shape) over the last dimension.</summary>
    public static SequentialBuilder LayerNorm(this SequentialBuilder builder, long normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) =>
        LayerNorm(builder, [normalizedShape], eps, elementwiseAffine);

    /// <summary>Appends nn.LayerNorm(normalized_shape) over the last dimensions.</summary>
    public static SequentialBuilder LayerNorm(this SequentialBuilder builder, long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        var problems = normalizedShape.Length > 0 && normalizedShape.All(d => d > 0) ? [] : new[] { $"normalized_shape must be positive sizes, got [{string.Join(", ", normalizedShape)}]" };
        return builder.Add($"LayerNorm([{string.Join(", ", normalizedShape)}])", () => new LayerNorm(normalizedShape, eps, elementwiseAffine), problems);
    }

    /// <summary>Appends nn.GroupNorm(num_groups, num_channels).</summary>
    public static SequentialBuilder GroupNorm(this SequentialBuilder builder, long numGroups, long numChannels, double eps = 1e-5, bool affine = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = numGroups > 0 && numChannels > 0 && numChannels % numGroups == 0 ? [] : new[] { $"num_channels ({numChannels}) must be a positive multiple of num_groups ({numGroups})" };
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"GroupNorm({numGroups}, {numChannels})"), () => new GroupNorm(numGroups, numChannels, eps, affine), problems);
    }

    /// <summary>Appends nn.InstanceNorm1d(num_features) for [batch, channels, length] inputs.</summary>
    public static SequentialBuilder InstanceNorm1d(this SequentialBuilder builder, long numFeatures, double eps = 1e-5, bool affine = false) => AddInstanceNorm(builder, numFeatures, 3, eps, affine);

    /// <summary>Appends nn.InstanceNorm2d(num_features) for [batch, channels, height, width] inputs.</summary>
    public static SequentialBuilder InstanceNorm2d(this SequentialBuilder builder, long numFeatures, double eps = 1e-5, bool affine = false) => AddInstanceNorm(builder, numFeatures, 4, eps, affine);

    /// <summary>Appends nn.Embedding(num_embeddings, embedding_dim, padding_idx).</summary>
    public static SequentialBuilder Embedding(this SequentialBuilder builder, long numEmbeddings, long embeddingDim, long? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (numEmbeddings <= 0 || embeddingDim <= 0) problems.Add($"num_embeddings and embedding_dim must be positive, got {numEmbeddings} and {embeddingDim}");
        if (paddingIdx is { } p && (p >= numEmbeddings || p < -numEmbeddings)) problems.Add($"padding_idx {p} is outside num_embeddings ({numEmbeddings})");
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"Embedding({numEmbeddings}, {embeddingDim})"), () => new Embedding(numEmbeddings, embeddingDim, paddingIdx), [.. problems]);
    }

    private static SequentialBuilder AddInstanceNorm(SequentialBuilder builder, long numFeatures, long rank, double eps, bool affine)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = numFeatures > 0 ? [] : new[] { $"num_features must be positive, got {numFeatures}" };
        return builder.Add(string.Create(CultureInfo.InvariantCulture, $"InstanceNorm{rank - 2}d({numFeatures})"), () => new InstanceNorm(numFeatures, rank, eps, affine: affine), problems);
    }
}
