using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Runtime.Sessions;

/// <summary>
/// A model input or output as ONNX Runtime reports it: name, element type and shape, where −1 is a
/// dimension fixed only at run time and <see cref="SymbolicDimensions"/> holds its name (e.g. <c>batch</c>).
/// </summary>
public sealed record TensorSignature(string Name, DataType ElementType, IReadOnlyList<long> Shape, IReadOnlyList<string> SymbolicDimensions)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Name}: {ElementTypes.Name(ElementType)}[{string.Join(", ", Shape.Select((d, i) => d >= 0 ? d.ToString(System.Globalization.CultureInfo.InvariantCulture) : SymbolicDimensions.ElementAtOrDefault(i) is { Length: > 0 } s ? s : "?"))}]";
}
