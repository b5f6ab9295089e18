namespace OnnxBridge.Training.Data;

/// <summary>Seeded permutations. .NET's seeded <see cref="Random"/> is stable across runs and machines, so a seed fixes the order.</summary>
internal static class Shuffle
{
    /// <summary>0 .. count-1 in a random order (Fisher–Yates).</summary>
    public static long[] Permutation(long count, Random random)
    {
        var order = new long[count];
        for (long i = 0; i < count; i++) order[i] = i;
        for (long i = count - 1; i > 0; i--)
        {
            var j = random.NextInt64(i + 1);
            (order[i], order[j]) = (order[j], order[i]);
        }
        return order;
    }
}
