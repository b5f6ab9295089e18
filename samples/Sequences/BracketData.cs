using static TorchSharp.torch;

namespace OnnxBridge.Samples.Sequences;

/// <summary>
/// Strings of brackets, tokens 0 = "(" and 1 = ")": half balanced (every prefix opens at least as
/// many as it closes, and all close), half not — with as many of each bracket, so that counting
/// alone cannot tell them apart and the order must be read. Generated from a seed; one tensor of
/// tokens [count, length] per length, with labels 1 = balanced.
/// </summary>
public static class BracketData
{
    public static (Tensor Tokens, Tensor Labels) Generate(int count, int length, Random random)
    {
        var tokens = new long[count, length];
        var labels = new long[count];
        for (int i = 0; i < count; i++)
        {
            var balanced = i % 2 == 0;
            long[] row;
            do
            {
                row = [.. Enumerable.Repeat(0L, length / 2).Concat(Enumerable.Repeat(1L, length / 2)).OrderBy(_ => random.Next())];
            }
            while (IsBalanced(row) != balanced);
            for (int t = 0; t < length; t++) tokens[i, t] = row[t];
            labels[i] = balanced ? 1 : 0;
        }
        return (tensor(tokens), tensor(labels));
    }

    public static bool IsBalanced(IEnumerable<long> row)
    {
        var open = 0;
        foreach (var token in row)
        {
            open += token == 0 ? 1 : -1;
            if (open < 0) return false;
        }
        return open == 0;
    }
}
