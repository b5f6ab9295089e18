using System.Globalization;
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
    protected override string ExtraRepr => string.Create(CultureInfo.InvariantCulture, $"p={Probability}, inplace=False");
}
