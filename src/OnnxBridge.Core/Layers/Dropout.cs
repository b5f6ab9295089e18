using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// Zeroes each element with probability <see cref="Probability"/> in training mode and scales the
/// rest by 1/(1−p); the identity in eval mode. Export records the inference form, so the layer adds
/// no node, as PyTorch's exporter does in eval mode.
/// </summary>
public sealed class Dropout : Block
{
    /// <summary>Creates the layer.</summary>
    public Dropout(double probability = 0.5) : base(nameof(Dropout))
    {
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "the dropout probability must be in [0, 1)");
        Probability = probability;
    }

    /// <summary>The probability of zeroing an element in training mode.</summary>
    public double Probability { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input) =>
        input.IsSymbolic || !training || Probability == 0 ? input : Value.Eager(nn.functional.dropout(input.Tensor, Probability, training: true));

    /// <inheritdoc/>
    protected override string ExtraRepr => $"p={PythonRepr.Float(Probability)}, inplace=False";
}

/// <summary>
/// nn.Dropout1d/Dropout2d (whole channels of [N, C, L] or [N, C, H, W] zeroed together) and
/// nn.AlphaDropout (keeps SELU's mean and variance) in training mode; the identity in eval mode and
/// in exports (no node).
/// </summary>
public sealed class ChannelDropout : Block
{
    public ChannelDropout(string kind, double probability = 0.5) : base(kind)
    {
        if (kind is not ("Dropout1d" or "Dropout2d" or "AlphaDropout")) throw new ArgumentException($"kind must be Dropout1d, Dropout2d or AlphaDropout, got '{kind}'", nameof(kind));
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "the dropout probability must be in [0, 1)");
        (Kind, Probability) = (kind, probability);
    }

    public string Kind { get; }

    public double Probability { get; }

    protected override Value Forward(Value input)
    {
        if (input.IsSymbolic || !training || Probability == 0) return input;
        return Value.Eager(Kind switch
        {
            "Dropout1d" => nn.functional.dropout1d(input.Tensor, Probability, training: true, inplace: false),
            "Dropout2d" => nn.functional.dropout2d(input.Tensor, Probability, training: true, inplace: false),
            _ => nn.functional.alpha_dropout(input.Tensor, Probability, training: true, inplace: false),
        });
    }

    protected override string ExtraRepr => $"p={PythonRepr.Float(Probability)}, inplace=False";
}
