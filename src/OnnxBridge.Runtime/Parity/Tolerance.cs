using System.Globalization;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Runtime.Parity;

/// <summary>
/// An element passes when |actual - expected| ≤ Absolute + Relative·|expected| (numpy's allclose).
/// </summary>
public sealed record Tolerance(double Absolute, double Relative)
{
    /// <summary>fp32 default: |Δ| ≤ 1e-5 + 1e-5·|ref|.</summary>
    public static Tolerance Float32 { get; } = new(1e-5, 1e-5);

    /// <summary>
    /// fp16 default: |Δ| ≤ 1e-3 + 1e-3·|ref| — about two float16 steps (one is 2^-11 ≈ 4.9e-4 of the
    /// value), since TorchSharp rounds every op's result to float16 and ONNX Runtime may keep some in float32.
    /// </summary>
    public static Tolerance Float16 { get; } = new(1e-3, 1e-3);

    /// <summary>bf16 default: |Δ| ≤ 1e-2 + 1e-2·|ref| — about two bfloat16 steps (one is 2^-8 ≈ 3.9e-3 of the value).</summary>
    public static Tolerance BFloat16 { get; } = new(1e-2, 1e-2);

    /// <summary>The default tolerance for outputs of <paramref name="type"/>: <see cref="Float16"/>, <see cref="BFloat16"/>, else <see cref="Float32"/>.</summary>
    public static Tolerance For(DataType type) => type switch
    {
        DataType.Float16 => Float16,
        DataType.Bfloat16 => BFloat16,
        _ => Float32,
    };

    /// <summary>The loosest default among outputs of <paramref name="types"/> (a model with float16 and float32 outputs is held to float16's).</summary>
    public static Tolerance For(IEnumerable<DataType> types)
    {
        ArgumentNullException.ThrowIfNull(types);
        return types.Select(For).DefaultIfEmpty(Float32).MaxBy(t => t.Absolute + t.Relative)!;
    }

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
