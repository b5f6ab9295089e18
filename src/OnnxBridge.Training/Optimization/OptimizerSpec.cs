using System.Globalization;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Optimization;

/// <summary>The optimizers the trainer makes, from TorchSharp.</summary>
public enum OptimizerKind
{
    /// <summary>Stochastic gradient descent, optionally with (Nesterov) momentum and L2 weight decay.</summary>
    Sgd,

    /// <summary>Adam; weight decay is added to the gradient (L2).</summary>
    Adam,

    /// <summary>AdamW: Adam with decoupled weight decay.</summary>
    AdamW,
}

/// <summary>
/// Which optimizer to use and its hyper-parameters. A description rather than an optimizer object,
/// so the trainer can make it over a model's parameters and a checkpoint can say what it was.
/// </summary>
/// <param name="Epsilon">Adam's and AdamW's eps, added to the denominator (PyTorch's default 1e-8).</param>
public sealed record OptimizerSpec(OptimizerKind Kind, double LearningRate, double Momentum = 0, double WeightDecay = 0, bool Nesterov = false, double Beta1 = 0.9, double Beta2 = 0.999, double Epsilon = 1e-8)
{
    /// <summary>SGD with optional momentum and weight decay (torch.optim.SGD).</summary>
    public static OptimizerSpec Sgd(double learningRate, double momentum = 0, double weightDecay = 0, bool nesterov = false) =>
        new(OptimizerKind.Sgd, learningRate, momentum, weightDecay, nesterov);

    /// <summary>Adam (torch.optim.Adam).</summary>
    public static OptimizerSpec Adam(double learningRate = 1e-3, double weightDecay = 0, double eps = 1e-8) => new(OptimizerKind.Adam, learningRate, WeightDecay: weightDecay, Epsilon: eps);

    /// <summary>AdamW (torch.optim.AdamW), with PyTorch's default decay of 0.01.</summary>
    public static OptimizerSpec AdamW(double learningRate = 1e-3, double weightDecay = 0.01, double eps = 1e-8) => new(OptimizerKind.AdamW, learningRate, WeightDecay: weightDecay, Epsilon: eps);

    /// <summary>Makes the optimizer over <paramref name="parameters"/>; the caller disposes it.</summary>
    public optim.Optimizer Create(IEnumerable<Parameter> parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Validate();
        return Kind switch
        {
            OptimizerKind.Sgd => optim.SGD(parameters, LearningRate, Momentum, dampening: 0, weight_decay: WeightDecay, nesterov: Nesterov),
            OptimizerKind.Adam => optim.Adam(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            OptimizerKind.AdamW => optim.AdamW(parameters, LearningRate, Beta1, Beta2, Epsilon, WeightDecay),
            _ => throw new ArgumentOutOfRangeException(nameof(Kind), Kind, "unknown optimizer"),
        };
    }

    /// <summary>Checks the hyper-parameters, naming the first bad one.</summary>
    public void Validate()
    {
        if (!(LearningRate > 0) || !double.IsFinite(LearningRate)) throw new ArgumentOutOfRangeException(nameof(LearningRate), LearningRate, "the learning rate must be positive");
        if (!(Momentum >= 0)) throw new ArgumentOutOfRangeException(nameof(Momentum), Momentum, "momentum cannot be negative");
        if (!(WeightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(WeightDecay), WeightDecay, "weight decay cannot be negative");
        if (Nesterov && (Kind != OptimizerKind.Sgd || Momentum == 0)) throw new ArgumentException("Nesterov momentum needs SGD with momentum > 0");
        if (!(Beta1 is >= 0 and < 1) || !(Beta2 is >= 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(Beta1), $"betas must be in [0, 1), got ({Beta1}, {Beta2})");
        if (!(Epsilon >= 0) || !double.IsFinite(Epsilon)) throw new ArgumentOutOfRangeException(nameof(Epsilon), Epsilon, "eps cannot be negative");
    }

    /// <inheritdoc/>
    public override string ToString() => Kind switch
    {
        OptimizerKind.Sgd => string.Create(CultureInfo.InvariantCulture, $"SGD(lr={LearningRate}, momentum={Momentum}, weight_decay={WeightDecay}{(Nesterov ? ", nesterov=True" : "")})"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{Kind}(lr={LearningRate}, betas=({Beta1}, {Beta2}), eps={Epsilon}, weight_decay={WeightDecay})"),
    };
}
