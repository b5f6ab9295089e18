using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Host.Protocol;

/// <summary>The Open Inference Protocol's tensor data types and their ONNX counterparts.</summary>
internal static class Datatypes
{
    private static readonly (string Name, DataType Type)[] Table =
    [
        ("BOOL", DataType.Bool), ("UINT8", DataType.Uint8), ("UINT16", DataType.Uint16), ("UINT32", DataType.Uint32), ("UINT64", DataType.Uint64),
        ("INT8", DataType.Int8), ("INT16", DataType.Int16), ("INT32", DataType.Int32), ("INT64", DataType.Int64),
        ("FP16", DataType.Float16), ("FP32", DataType.Float), ("FP64", DataType.Double), ("BF16", DataType.Bfloat16),
    ];

    /// <summary>The protocol name of an ONNX element type, e.g. FP32; null when the protocol has none we serve.</summary>
    public static string? NameOf(DataType type) => Table.FirstOrDefault(e => e.Type == type).Name;

    /// <summary>The ONNX element type of a protocol name, or null for names we do not serve (BYTES, unknown).</summary>
    public static DataType? TypeOf(string name) => Table.FirstOrDefault(e => e.Name == name) is { Name: not null } entry ? entry.Type : null;

    /// <summary>Every name served, for error messages.</summary>
    public static string Served => string.Join(", ", Table.Select(e => e.Name));
}
