using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>PyTorch's legacy storage class names (<c>torch.FloatStorage</c>) and the element types they hold.</summary>
internal static class StorageTypes
{
    private static readonly (string Name, DataType Type)[] Map =
    [
        ("FloatStorage", DataType.Float),
        ("DoubleStorage", DataType.Double),
        ("HalfStorage", DataType.Float16),
        ("BFloat16Storage", DataType.Bfloat16),
        ("LongStorage", DataType.Int64),
        ("IntStorage", DataType.Int32),
        ("ShortStorage", DataType.Int16),
        ("CharStorage", DataType.Int8),
        ("ByteStorage", DataType.Uint8),
        ("BoolStorage", DataType.Bool),
    ];

    public static DataType? FromStorageName(string name) => Map.Where(m => m.Name == name).Select(m => (DataType?)m.Type).FirstOrDefault();

    public static string StorageName(DataType type) =>
        Map.Where(m => m.Type == type).Select(m => m.Name).FirstOrDefault()
        ?? throw new NotSupportedException($"PyTorch files cannot hold {Onnx.Tensors.ElementTypes.Name(type)} tensors here");
}
