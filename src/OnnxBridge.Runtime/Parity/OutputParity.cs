namespace OnnxBridge.Runtime.Parity;

/// <summary>How one output compared with its reference.</summary>
/// <param name="Name">The output's name.</param>
/// <param name="Shape">The reference shape.</param>
/// <param name="MaxAbsoluteError">max |actual - expected|.</param>
/// <param name="MaxRelativeError">max |actual - expected| / |expected| over elements with |expected| ≥ the absolute tolerance (smaller ones are judged by it).</param>
/// <param name="WorstIndex">The flat index of the element furthest outside (or nearest to) the tolerance.</param>
/// <param name="Violations">How many elements fail the tolerance.</param>
/// <param name="Problem">Why the comparison could not be made element-wise (shape or type differs), else null.</param>
public sealed record OutputParity(
    string Name,
    IReadOnlyList<long> Shape,
    double MaxAbsoluteError,
    double MaxRelativeError,
    long WorstIndex,
    long Violations,
    string? Problem)
{
    /// <summary>Whether every element is within tolerance.</summary>
    public bool Passed => Problem is null && Violations == 0;
}
