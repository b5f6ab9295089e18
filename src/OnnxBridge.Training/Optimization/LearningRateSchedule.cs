using System.Globalization;

namespace OnnxBridge.Training.Optimization;

/// <summary>
/// The learning rate for each epoch, as a pure function of the epoch (PyTorch's closed forms), so a
/// resumed run sets exactly the rate an uninterrupted one would.
/// </summary>
public abstract record LearningRateSchedule
{
    /// <summary>The same rate every epoch.</summary>
    public static LearningRateSchedule Constant { get; } = new ConstantSchedule();

    /// <summary>Multiplies the rate by <paramref name="gamma"/> every <paramref name="stepSize"/> epochs (torch StepLR).</summary>
    public static LearningRateSchedule Step(int stepSize, double gamma = 0.1) =>
        stepSize > 0 && gamma > 0 ? new StepSchedule(stepSize, gamma) : throw new ArgumentOutOfRangeException(nameof(stepSize), $"step size ({stepSize}) and gamma ({gamma}) must be positive");

    /// <summary>Cosine annealing from the base rate to <paramref name="minimum"/> over <paramref name="epochs"/> epochs (torch CosineAnnealingLR).</summary>
    public static LearningRateSchedule Cosine(int epochs, double minimum = 0) =>
        epochs > 0 && minimum >= 0 ? new CosineSchedule(epochs, minimum) : throw new ArgumentOutOfRangeException(nameof(epochs), $"epochs ({epochs}) must be positive and the minimum ({minimum}) non-negative");

    /// <summary>The rate for 0-based <paramref name="epoch"/> given the optimizer's base rate.</summary>
    public abstract double RateAt(int epoch, double baseRate);

    private sealed record ConstantSchedule : LearningRateSchedule
    {
        public override double RateAt(int epoch, double baseRate) => baseRate;

        public override string ToString() => "constant";
    }

    private sealed record StepSchedule(int StepSize, double Gamma) : LearningRateSchedule
    {
        public override double RateAt(int epoch, double baseRate) => baseRate * Math.Pow(Gamma, epoch / StepSize);

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"step(every {StepSize} epochs x{Gamma})");
    }

    private sealed record CosineSchedule(int Epochs, double Minimum) : LearningRateSchedule
    {
        public override double RateAt(int epoch, double baseRate) =>
            Minimum + (baseRate - Minimum) * (1 + Math.Cos(Math.PI * Math.Min(epoch, Epochs) / Epochs)) / 2;

        public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"cosine({Epochs} epochs, min {Minimum})");
    }
}
