using static TorchSharp.torch;

namespace OnnxBridge.Training.Data;

/// <summary>
/// Mini-batches over a <see cref="TensorDataset"/> (PyTorch's DataLoader over tensors). The order
/// depends only on the seed and the epoch, so a run resumed at epoch N sees the batches an
/// uninterrupted run would have seen.
/// </summary>
public static class Batches
{
    /// <summary>
    /// Yields (features, targets) batches of <paramref name="batchSize"/> rows (the last may be
    /// smaller). The tensors are new each time; the caller's dispose scope owns them.
    /// </summary>
    public static IEnumerable<(Tensor Features, Tensor Targets)> Of(TensorDataset data, int batchSize, bool shuffle, int seed = 0, int epoch = 0)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var order = shuffle ? Shuffle.Permutation(data.Count, new Random(unchecked(seed * 100_003 + epoch)) /* not HashCode: it is randomized per process */) : null;
        return Enumerate(data, batchSize, order);
    }

    /// <summary>The number of batches an epoch has.</summary>
    public static int CountFor(TensorDataset data, int batchSize)
    {
        ArgumentNullException.ThrowIfNull(data);
        return (int)((data.Count + batchSize - 1) / batchSize);
    }

    private static IEnumerable<(Tensor, Tensor)> Enumerate(TensorDataset data, int batchSize, long[]? order)
    {
        for (long start = 0; start < data.Count; start += batchSize)
        {
            var length = Math.Min(batchSize, data.Count - start);
            if (order is null)
            {
                yield return (data.Features.narrow(0, start, length), data.Targets.narrow(0, start, length));
                continue;
            }
            using var index = tensor(order.AsSpan((int)start, (int)length).ToArray());
            yield return (data.Features.index_select(0, index), data.Targets.index_select(0, index));
        }
    }
}
