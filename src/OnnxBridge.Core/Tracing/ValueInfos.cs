using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;

namespace OnnxBridge.Core.Tracing;

/// <summary>ONNX <see cref="ValueInfoProto"/>s (name, element type, shape) for recorded values.</summary>
internal static class ValueInfos
{
    public static ValueInfoProto Of(SymbolicTensor value) => Of(value.Name, value);

    /// <summary>Known dimensions become dim_value, named ones dim_param, unknown ones stay empty.</summary>
    public static ValueInfoProto Of(string name, SymbolicTensor value)
    {
        var shape = new TensorShapeProto();
        foreach (var dim in value.Shape)
        {
            shape.Dim.Add(dim.IsKnown ? new TensorShapeProto.Types.Dimension { DimValue = dim.Size!.Value }
                : dim.Symbol is not null ? new TensorShapeProto.Types.Dimension { DimParam = dim.Symbol }
                : new TensorShapeProto.Types.Dimension());
        }
        return new ValueInfoProto
        {
            Name = name,
            Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)value.ElementType, Shape = shape } },
        };
    }
}
