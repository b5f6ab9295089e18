using System.Globalization;

namespace OnnxBridge.Core.Architecture;

/// <summary>
/// The most parameters and buffer elements a network read from a file may allocate, all layers
/// together. Layers with known sizes are charged while the file is read, before they allocate;
/// deferred layers (<c>LazyLinear</c>) carry the budget and are charged when they materialize.
/// </summary>
internal sealed class ParameterBudget(long max)
{
    private long _used;

    public long Max { get; } = max;

    /// <summary>Charges <paramref name="count"/> elements, or throws naming <paramref name="what"/> without charging.</summary>
    public void Charge(long count, Func<string> what)
    {
        if (count < 0 || count > Max - _used)
            throw new ArchitectureException(string.Create(CultureInfo.InvariantCulture,
                $"{what()} would hold {(count < 0 ? "more than 2^63" : count.ToString("N0", CultureInfo.InvariantCulture))} parameters, taking the network past its limit of {Max:N0} parameters and buffer elements in all ({_used:N0} already); raise it with maxParameters (CLI: --max-parameters) if the network is meant to be that large"));
        _used += count;
    }

    /// <summary>The product of <paramref name="factors"/>, or -1 when it passes 2^63.</summary>
    public static long Product(IEnumerable<long> factors)
    {
        long product = 1;
        foreach (var f in factors)
        {
            if (f < 0 || (f != 0 && product > long.MaxValue / f)) return -1;
            product *= f;
        }
        return product;
    }
}
