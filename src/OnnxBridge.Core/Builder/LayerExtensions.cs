using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>The built-in layer kinds, as builder steps.</summary>
public static class LayerExtensions
{
    /// <summary>Appends <see cref="Layers.Linear"/>; leave <paramref name="inFeatures"/> out to infer it from the input.</summary>
    public static SequentialBuilder Linear(this SequentialBuilder builder, long outFeatures, long? inFeatures = null, bool bias = true)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var problems = new List<string>();
        if (outFeatures <= 0) problems.Add($"out_features must be positive, got {outFeatures}");
        if (inFeatures <= 0) problems.Add($"in_features must be positive, got {inFeatures}");
        var description = inFeatures is null ? $"Linear({outFeatures})" : $"Linear({inFeatures}, {outFeatures})";
        return builder.Add(description, () => new Linear(outFeatures, inFeatures, bias), [.. problems]);
    }

    /// <summary>Appends <see cref="Layers.ReLU"/>.</summary>
    public static SequentialBuilder ReLU(this SequentialBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.Add("ReLU", () => new ReLU());
    }
}
