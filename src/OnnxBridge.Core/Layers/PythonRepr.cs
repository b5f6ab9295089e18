using System.Globalization;

namespace OnnxBridge.Core.Layers;

/// <summary>Numbers written as Python writes them in PyTorch's module prints (<c>1.0</c>, <c>0.01</c>, <c>1e-05</c>).</summary>
internal static class PythonRepr
{
    public static string Float(double value)
    {
        if (double.IsPositiveInfinity(value)) return "inf";
        if (double.IsNegativeInfinity(value)) return "-inf";
        if (double.IsNaN(value)) return "nan";
        var abs = Math.Abs(value);
        if (abs != 0 && (abs < 1e-4 || abs >= 1e16))
        {
            // Python's repr switches to exponent form here: 1e-05, with at least two exponent digits.
            var text = value.ToString("R", CultureInfo.InvariantCulture).Replace("E", "e", StringComparison.Ordinal);
            var e = text.IndexOf('e', StringComparison.Ordinal);
            var mantissa = text[..e];
            var exponent = int.Parse(text[(e + 1)..], CultureInfo.InvariantCulture);
            return $"{mantissa}e{(exponent < 0 ? "-" : "+")}{Math.Abs(exponent):00}";
        }
        var plain = value.ToString("R", CultureInfo.InvariantCulture);
        return plain.Contains('.', StringComparison.Ordinal) || plain.Contains('E', StringComparison.Ordinal) ? plain : plain + ".0";
    }
}
