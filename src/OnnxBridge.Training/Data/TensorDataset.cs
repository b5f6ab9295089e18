using static TorchSharp.torch;

namespace OnnxBridge.Training.Data;

/// <summary>
/// Features [rows, ...] and targets [rows] (class indices, int64) or [rows, ...] (regression,
/// float32) held in memory, as PyTorch's TensorDataset. The dataset owns both tensors.
/// </summary>
public sealed class TensorDataset : IDisposable
{
    /// <summary>Wraps <paramref name="features"/> and <paramref name="targets"/>; both must have the same number of rows.</summary>
    public TensorDataset(Tensor features, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(targets);
        if (features.dim() < 1 || targets.dim() < 1 || features.shape[0] != targets.shape[0])
            throw new ArgumentException($"features [{string.Join(", ", features.shape)}] and targets [{string.Join(", ", targets.shape)}] must have the same number of rows");
        Features = features.DetachFromDisposeScope();
        Targets = targets.DetachFromDisposeScope();
    }

    /// <summary>The inputs, one row per example.</summary>
    public Tensor Features { get; }

    /// <summary>The targets, one row per example.</summary>
    public Tensor Targets { get; }

    /// <summary>The number of examples.</summary>
    public long Count => Features.shape[0];

    /// <summary>The examples at <paramref name="indices"/>, in that order (copies).</summary>
    public TensorDataset Subset(long[] indices)
    {
        ArgumentNullException.ThrowIfNull(indices);
        using var index = tensor(indices);
        return new TensorDataset(Features.index_select(0, index), Targets.index_select(0, index));
    }

    /// <summary>
    /// Splits into train, validation and test parts after a seeded shuffle: the same seed always gives
    /// the same split. Fractions are of the whole; the train part gets the rest.
    /// </summary>
    public (TensorDataset Train, TensorDataset Validation, TensorDataset Test) Split(double validationFraction, double testFraction, int seed)
    {
        if (!(validationFraction >= 0 && testFraction >= 0 && validationFraction + testFraction < 1))
            throw new ArgumentOutOfRangeException(nameof(validationFraction), $"validation ({validationFraction}) and test ({testFraction}) fractions must be non-negative and sum to less than 1");
        var order = Shuffle.Permutation(Count, new Random(seed));
        var test = (long)Math.Round(Count * testFraction);
        var validation = (long)Math.Round(Count * validationFraction);
        return (Subset(order[(int)(test + validation)..]), Subset(order[(int)test..(int)(test + validation)]), Subset(order[..(int)test]));
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        Features.Dispose();
        Targets.Dispose();
    }
}
