using OnnxBridge.Core.Tracing;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// A value inside a graph being recorded: the name of the ONNX value that will hold it at run time,
/// its element type and its (possibly symbolic) shape.
/// </summary>
public sealed class SymbolicTensor
{
    internal SymbolicTensor(GraphRecorder graph, object frame, string name, DataType elementType, IReadOnlyList<Dim> shape)
    {
        Graph = graph;
        Frame = frame;
        Name = name;
        ElementType = elementType;
        Shape = shape;
    }

    internal GraphRecorder Graph { get; }

    /// <summary>The (sub)graph the value was made in; it may be used there and in graphs nested inside.</summary>
    internal object Frame { get; }

    /// <summary>The ONNX value name.</summary>
    public string Name { get; }

    /// <summary>The ONNX element type.</summary>
    public DataType ElementType { get; }

    /// <summary>The inferred shape.</summary>
    public IReadOnlyList<Dim> Shape { get; }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Onnx.Tensors.ElementTypes.Name(ElementType)}{Dim.Format(Shape)}";
}
