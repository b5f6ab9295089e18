using static TorchSharp.torch;

namespace OnnxBridge.Training.Optimization;

/// <summary>
/// A loss over (model output, target), and how to count correct predictions for accuracy (null
/// when accuracy means nothing, as for regression).
/// </summary>
public sealed class LossFunction
{
    private readonly Func<Tensor, Tensor, Tensor> _loss;
    private readonly Func<Tensor, Tensor, Tensor>? _correct;

    private LossFunction(string name, Func<Tensor, Tensor, Tensor> loss, Func<Tensor, Tensor, Tensor>? correct)
    {
        Name = name;
        _loss = loss;
        _correct = correct;
    }

    /// <summary>Cross-entropy over logits [batch, classes] and class indices [batch] (nn.CrossEntropyLoss); accuracy by argmax.</summary>
    public static LossFunction CrossEntropy { get; } = new("cross_entropy",
        (output, target) => nn.functional.cross_entropy(output, target),
        (output, target) => output.argmax(1).eq(target).sum());

    /// <summary>Mean squared error (nn.MSELoss); no accuracy.</summary>
    public static LossFunction MeanSquaredError { get; } = new("mse",
        (output, target) => nn.functional.mse_loss(output, target), null);

    /// <summary>Binary cross-entropy on logits with 0/1 targets (nn.BCEWithLogitsLoss); accuracy by logit &gt; 0.</summary>
    public static LossFunction BinaryCrossEntropyWithLogits { get; } = new("bce_with_logits",
        (output, target) => nn.functional.binary_cross_entropy_with_logits(output, target),
        (output, target) => output.gt(0).eq(target.gt(0.5)).sum());

    /// <summary>The loss's name, as metrics files show it.</summary>
    public string Name { get; }

    /// <summary>Whether <see cref="CountCorrect"/> is defined.</summary>
    public bool HasAccuracy => _correct is not null;

    /// <summary>The mean loss over the batch (a scalar with a gradient).</summary>
    public Tensor Compute(Tensor output, Tensor target) => _loss(output, target);

    /// <summary>The number of correct predictions in the batch, a scalar tensor.</summary>
    public Tensor CountCorrect(Tensor output, Tensor target) =>
        _correct?.Invoke(output, target) ?? throw new InvalidOperationException($"the {Name} loss has no accuracy");

    /// <summary>The loss named <paramref name="name"/> (cross_entropy, mse, bce_with_logits).</summary>
    public static LossFunction Parse(string name) => name switch
    {
        "cross_entropy" => CrossEntropy,
        "mse" => MeanSquaredError,
        "bce_with_logits" => BinaryCrossEntropyWithLogits,
        _ => throw new ArgumentException($"unknown loss '{name}'; use cross_entropy, mse or bce_with_logits", nameof(name)),
    };

    /// <inheritdoc/>
    public override string ToString() => Name;
}
