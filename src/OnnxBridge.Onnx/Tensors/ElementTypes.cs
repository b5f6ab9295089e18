using OnnxBridge.Onnx.Proto;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Onnx.Tensors;

/// <summary>Facts about ONNX tensor element types: byte sizes, names and their .NET counterparts.</summary>
public static class ElementTypes
{
    /// <summary>Bytes per element, or throws for types without a fixed byte size (string, 4-bit).</summary>
    public static int SizeOf(DataType type) =>
        TrySizeOf(type) ?? throw new NotSupportedException($"ONNX element type {Name(type)} has no fixed byte size per element");

    /// <summary>Bytes per element, or null for types without a fixed byte size (string, 4-bit, unknown).</summary>
    public static int? TrySizeOf(DataType type) => type switch
    {
        DataType.Float or DataType.Int32 or DataType.Uint32 => 4,
        DataType.Double or DataType.Int64 or DataType.Uint64 or DataType.Complex64 => 8,
        DataType.Complex128 => 16,
        DataType.Float16 or DataType.Bfloat16 or DataType.Int16 or DataType.Uint16 => 2,
        DataType.Int8 or DataType.Uint8 or DataType.Bool or DataType.Float8E4M3Fn or DataType.Float8E4M3Fnuz
            or DataType.Float8E5M2 or DataType.Float8E5M2Fnuz => 1,
        _ => null,
    };

    /// <summary>The lower-case name ONNX tools print, e.g. <c>float32</c>, <c>int64</c>.</summary>
    public static string Name(DataType type) => type switch
    {
        DataType.Float => "float32",
        DataType.Double => "float64",
        DataType.Float16 => "float16",
        DataType.Bfloat16 => "bfloat16",
        DataType.Int8 => "int8",
        DataType.Int16 => "int16",
        DataType.Int32 => "int32",
        DataType.Int64 => "int64",
        DataType.Uint8 => "uint8",
        DataType.Uint16 => "uint16",
        DataType.Uint32 => "uint32",
        DataType.Uint64 => "uint64",
        DataType.Bool => "bool",
        DataType.String => "string",
        _ => type.ToString().ToLowerInvariant(),
    };

    /// <summary>The ONNX element type for a .NET element type.</summary>
    public static DataType Of<T>() where T : unmanaged => Of(typeof(T));

    /// <summary>The ONNX element type for a .NET element type.</summary>
    public static DataType Of(Type clrType)
    {
        ArgumentNullException.ThrowIfNull(clrType);
        return clrType switch
        {
            _ when clrType == typeof(float) => DataType.Float,
            _ when clrType == typeof(double) => DataType.Double,
            _ when clrType == typeof(Half) => DataType.Float16,
            _ when clrType == typeof(sbyte) => DataType.Int8,
            _ when clrType == typeof(short) => DataType.Int16,
            _ when clrType == typeof(int) => DataType.Int32,
            _ when clrType == typeof(long) => DataType.Int64,
            _ when clrType == typeof(byte) => DataType.Uint8,
            _ when clrType == typeof(ushort) => DataType.Uint16,
            _ when clrType == typeof(uint) => DataType.Uint32,
            _ when clrType == typeof(ulong) => DataType.Uint64,
            _ when clrType == typeof(bool) => DataType.Bool,
            _ => throw new NotSupportedException($"no ONNX element type for .NET type {clrType.Name}"),
        };
    }

    /// <summary>The element type of a <see cref="TensorProto"/>, validated.</summary>
    public static DataType Of(TensorProto proto)
    {
        ArgumentNullException.ThrowIfNull(proto);
        var type = (DataType)proto.DataType;
        return Enum.IsDefined(type) && type != DataType.Undefined
            ? type
            : throw new OnnxFileException($"tensor '{proto.Name}' has unknown data_type {proto.DataType}");
    }
}
