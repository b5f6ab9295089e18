using System.Globalization;

namespace OnnxBridge.Core.Values;

/// <summary>
/// One dimension of a symbolic shape: a known size, or a named symbol such as <c>batch</c> whose
/// size is only known at run time (an ONNX <c>dim_param</c>).
/// </summary>
public readonly record struct Dim
{
    private Dim(long? size, string? symbol)
    {
        Size = size;
        Symbol = symbol;
    }

    /// <summary>The size, when known.</summary>
    public long? Size { get; }

    /// <summary>The symbol's name, when the size is not known.</summary>
    public string? Symbol { get; }

    /// <summary>Whether the size is known.</summary>
    public bool IsKnown => Size.HasValue;

    /// <summary>A dimension nothing is known about (ONNX: neither dim_value nor dim_param).</summary>
    public static Dim Unknown => default;

    /// <summary>A dimension of known size.</summary>
    public static Dim Known(long size) =>
        size >= 0 ? new Dim(size, null) : throw new ArgumentOutOfRangeException(nameof(size), size, "a dimension cannot be negative");

    /// <summary>A dimension known only by name, e.g. <c>batch</c>.</summary>
    public static Dim Named(string symbol)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(symbol);
        return new Dim(null, symbol);
    }

    /// <summary>Known dimensions convert implicitly, so shapes can be written as <c>[batch, 20]</c>.</summary>
    public static implicit operator Dim(long size) => Known(size);

    /// <inheritdoc/>
    public override string ToString() => Size?.ToString(CultureInfo.InvariantCulture) ?? Symbol ?? "?";

    /// <summary>Formats a shape as <c>[batch, 20]</c>.</summary>
    public static string Format(IEnumerable<Dim> shape) => "[" + string.Join(", ", shape) + "]";
}
