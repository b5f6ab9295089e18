using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// Standardizes features, y = (x − mean) / std, with the statistics held as buffers (Keras's
/// Normalization layer). Putting the scaling inside the network means the exported model takes raw
/// features, so the serving side cannot scale differently from training. Fit it on the training
/// split only with <see cref="Adapt"/>.
/// </summary>
public sealed class Normalization : Block
{
    private readonly Tensor _mean;
    private readonly Tensor _std;

    /// <summary>Creates the layer with mean 0 and std 1 for <paramref name="numFeatures"/> features (the last dimension).</summary>
    public Normalization(long numFeatures) : base(nameof(Normalization))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        NumFeatures = numFeatures;
        _mean = RegisterBuffer("mean", zeros(numFeatures));
        _std = RegisterBuffer("std", ones(numFeatures));
    }

    /// <summary>The number of features.</summary>
    public long NumFeatures { get; }

    /// <summary>The per-feature means (a copy).</summary>
    public float[] Mean => _mean.data<float>().ToArray();

    /// <summary>The per-feature standard deviations (a copy).</summary>
    public float[] Std => _std.data<float>().ToArray();

    /// <summary>
    /// Sets the statistics from <paramref name="features"/> [rows, NumFeatures]: per-feature mean and
    /// population standard deviation; a constant feature gets std 1, so it maps to 0 rather than NaN.
    /// </summary>
    public Normalization Adapt(Tensor features)
    {
        ArgumentNullException.ThrowIfNull(features);
        if (features.dim() != 2 || features.shape[1] != NumFeatures || features.shape[0] == 0)
            throw new ArgumentException($"Normalization({NumFeatures}) adapts to [rows, {NumFeatures}] with at least one row, got [{string.Join(", ", features.shape)}]", nameof(features));
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var data = features.to(ScalarType.Float64);
        var mean = data.mean([0]);
        var std = data.std([0], unbiased: false);
        std = where(std < 1e-12, ones_like(std), std);
        _mean.copy_(mean.to(_mean.dtype));
        _std.copy_(std.to(_std.dtype));
        return this;
    }

    /// <inheritdoc/>
    protected override Value Forward(Value input) => (input - Use(_mean)) / Use(_std);

    /// <inheritdoc/>
    protected override string ExtraRepr => $"features={NumFeatures}";
}
