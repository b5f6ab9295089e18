using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>Maps TorchSharp's scalar types to ONNX element types and back.</summary>
public static class DTypes
{
    /// <summary>The ONNX element type of a TorchSharp scalar type.</summary>
    public static DataType ToOnnx(ScalarType type) => type switch
    {
        ScalarType.Float32 => DataType.Float,
        ScalarType.Float64 => DataType.Double,
        ScalarType.Float16 => DataType.Float16,
        ScalarType.BFloat16 => DataType.Bfloat16,
        ScalarType.Int8 => DataType.Int8,
        ScalarType.Int16 => DataType.Int16,
        ScalarType.Int32 => DataType.Int32,
        ScalarType.Int64 => DataType.Int64,
        ScalarType.Byte => DataType.Uint8,
        ScalarType.Bool => DataType.Bool,
        _ => throw new NotSupportedException($"TorchSharp dtype {type} has no ONNX counterpart supported by OnnxBridge"),
    };

    /// <summary>The dtype names <see cref="Parse"/> takes.</summary>
    public const string Names = "float32, float64, float16, bfloat16, int64 or int32";

    /// <summary>The element type a PyTorch-style dtype name stands for (<c>float32</c>/<c>float</c>, <c>float64</c>/<c>double</c>, <c>float16</c>/<c>half</c>, <c>bfloat16</c>, <c>int64</c>, <c>int32</c>), or null.</summary>
    public static DataType? Parse(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        return name.ToLowerInvariant() switch
        {
            "float32" or "float" => DataType.Float,
            "float64" or "double" => DataType.Double,
            "float16" or "half" => DataType.Float16,
            "bfloat16" => DataType.Bfloat16,
            "int64" => DataType.Int64,
            "int32" => DataType.Int32,
            _ => null,
        };
    }

    /// <summary>The TorchSharp scalar type of an ONNX element type.</summary>
    public static ScalarType ToTorch(DataType type) => type switch
    {
        DataType.Float => ScalarType.Float32,
        DataType.Double => ScalarType.Float64,
        DataType.Float16 => ScalarType.Float16,
        DataType.Bfloat16 => ScalarType.BFloat16,
        DataType.Int8 => ScalarType.Int8,
        DataType.Int16 => ScalarType.Int16,
        DataType.Int32 => ScalarType.Int32,
        DataType.Int64 => ScalarType.Int64,
        DataType.Uint8 => ScalarType.Byte,
        DataType.Bool => ScalarType.Bool,
        _ => throw new NotSupportedException($"ONNX element type {ElementTypes.Name(type)} has no TorchSharp counterpart supported by OnnxBridge"),
    };
}
