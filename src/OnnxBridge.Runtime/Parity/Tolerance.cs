using System.Globalization;

namespace OnnxBridge.Runtime.Parity;

/// <summary>
/// An element passes when |actual - expected| ≤ Absolute + Relative·|expected| (numpy's allclose).
/// </summary>
public sealed record Tolerance(double Absolute, double Relative)
{
    /// <summary>fp32 default: |Δ| ≤ 1e-5 + 1e-5·|ref|.</summary>
    public static Tolerance Float32 { get; } = new(1e-5, 1e-5);

    /// <summary>Exact equality (integer and boolean outputs).</summary>
    public static Tolerance Exact { get; } = new(0, 0);

    /// <summary>Whether <paramref name="actual"/> is close enough to <paramref name="expected"/>.</summary>
    public bool Accepts(double expected, double actual) =>
        (double.IsNaN(expected) && double.IsNaN(actual)) ||
        expected.Equals(actual) ||
        Math.Abs(actual - expected) <= Absolute + Relative * Math.Abs(expected);

    /// <inheritdoc/>
    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"|Δ| ≤ {Absolute:0.###e+0} + {Relative:0.###e+0}·|ref|");
}
