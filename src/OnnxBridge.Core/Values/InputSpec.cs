using System.Globalization;
using System.Text.RegularExpressions;
using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// Describes a network input without data: its graph name, element type and shape, where named
/// dimensions (e.g. <c>batch</c>) stay symbolic in the exported graph.
/// </summary>
public sealed partial record InputSpec
{
    /// <summary>Creates a spec; see <see cref="Parse"/> for the text form.</summary>
    public InputSpec(string name, DataType elementType, IReadOnlyList<Dim> shape)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        ArgumentNullException.ThrowIfNull(shape);
        Name = name;
        ElementType = elementType;
        Shape = shape.ToArray();
    }

    /// <summary>The graph input's name.</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public DataType ElementType { get; }

    /// <summary>The shape; named dimensions are symbolic.</summary>
    public IReadOnlyList<Dim> Shape { get; }

    /// <summary>A float32 input, e.g. <c>InputSpec.Float32("input", Dim.Named("batch"), 20)</c>.</summary>
    public static InputSpec Float32(string name, params Dim[] shape) => new(name, DataType.Float, shape);

    /// <summary>Parses <c>name:float32[batch,20]</c>.</summary>
    /// <exception cref="FormatException">The text does not have that form.</exception>
    public static InputSpec Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var match = SpecPattern().Match(text.Replace(" ", "", StringComparison.Ordinal));
        if (!match.Success)
            throw new FormatException($"input spec '{text}' is not of the form name:dtype[dim,...], e.g. input:float32[batch,20]");
        var type = DTypes.Parse(match.Groups["type"].Value) ?? throw new FormatException($"input spec '{text}': unsupported dtype '{match.Groups["type"].Value}' (use {DTypes.Names})");
        var dims = match.Groups["dims"].Value.Length == 0
            ? []
            : match.Groups["dims"].Value.Split(',').Select(d =>
                long.TryParse(d, NumberStyles.None, CultureInfo.InvariantCulture, out var size) ? Dim.Known(size)
                : IdentifierPattern().IsMatch(d) ? Dim.Named(d)
                : throw new FormatException($"input spec '{text}': dimension '{d}' is neither a size nor a name")).ToArray();
        return new InputSpec(match.Groups["name"].Value, type, dims);
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}:{ElementTypes.Name(ElementType)}{Dim.Format(Shape).Replace(" ", "", StringComparison.Ordinal)}";

    [GeneratedRegex(@"^(?<name>[A-Za-z_][A-Za-z0-9_.\-]*):(?<type>[A-Za-z0-9]+)\[(?<dims>[^\]]*)\]$")]
    private static partial Regex SpecPattern();

    [GeneratedRegex(@"^[A-Za-z_][A-Za-z0-9_]*$")]
    private static partial Regex IdentifierPattern();
}
