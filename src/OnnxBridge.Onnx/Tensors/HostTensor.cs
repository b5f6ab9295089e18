using System.Runtime.InteropServices;
using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Onnx.Tensors;

/// <summary>
/// A dense tensor in host memory: element type, shape and row-major little-endian bytes. The
/// common currency between TorchSharp, ONNX files, safetensors and ONNX Runtime, so none of them
/// needs to know about the others. Immutable.
/// </summary>
public sealed class HostTensor
{
    private readonly long[] _shape;
    private readonly byte[] _bytes;

    private HostTensor(DataType elementType, long[] shape, byte[] bytes)
    {
        ElementType = elementType;
        _shape = shape;
        _bytes = bytes;
        ElementCount = CountElements(shape);
    }

    /// <summary>The ONNX element type.</summary>
    public DataType ElementType { get; }

    /// <summary>The dimensions; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape => _shape;

    /// <summary>The number of elements (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>The raw little-endian, row-major bytes.</summary>
    public ReadOnlyMemory<byte> Bytes => _bytes;

    /// <summary>Creates a tensor from a copy of <paramref name="data"/>.</summary>
    public static HostTensor Create<T>(ReadOnlySpan<T> data, params long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(shape);
        var type = ElementTypes.Of<T>();
        var count = CountElements(shape);
        if (count != data.Length)
            throw new ArgumentException($"shape {FormatShape(shape)} holds {count} elements but {data.Length} were given", nameof(data));
        return new HostTensor(type, (long[])shape.Clone(), MemoryMarshal.AsBytes(data).ToArray());
    }

    /// <summary>Creates a tensor from raw little-endian bytes (copied), checking their length against the shape.</summary>
    public static HostTensor FromBytes(DataType elementType, IReadOnlyList<long> shape, ReadOnlySpan<byte> bytes)
    {
        ArgumentNullException.ThrowIfNull(shape);
        CheckLength(elementType, shape, bytes.Length);
        return new HostTensor(elementType, shape.ToArray(), bytes.ToArray());
    }

    /// <summary>
    /// Wraps <paramref name="bytes"/> without copying, checking their length against the shape. The
    /// tensor takes ownership: the caller must not change the array afterwards. For readers that
    /// have just filled a fresh buffer, so large files are not held twice.
    /// </summary>
    public static HostTensor Wrap(DataType elementType, IReadOnlyList<long> shape, byte[] bytes)
    {
        ArgumentNullException.ThrowIfNull(shape);
        ArgumentNullException.ThrowIfNull(bytes);
        CheckLength(elementType, shape, bytes.Length);
        return new HostTensor(elementType, shape.ToArray(), bytes);
    }

    private static void CheckLength(DataType elementType, IReadOnlyList<long> shape, long length)
    {
        var dims = shape.ToArray();
        var expected = ByteCount(elementType, dims);
        if (expected != length)
            throw new OnnxFileException(
                $"{ElementTypes.Name(elementType)}{FormatShape(dims)} needs {expected} bytes but {length} were given");
    }

    /// <summary>The elements as a span of <typeparamref name="T"/>; the type must match <see cref="ElementType"/>.</summary>
    public ReadOnlySpan<T> AsSpan<T>() where T : unmanaged
    {
        var requested = ElementTypes.Of<T>();
        if (requested != ElementType)
            throw new InvalidOperationException(
                $"tensor holds {ElementTypes.Name(ElementType)}, not {ElementTypes.Name(requested)}");
        return MemoryMarshal.Cast<byte, T>(_bytes);
    }

    /// <summary>A copy of the elements as an array of <typeparamref name="T"/>.</summary>
    public T[] ToArray<T>() where T : unmanaged => AsSpan<T>().ToArray();

    /// <summary>Writes the tensor as a <see cref="TensorProto"/> with <c>raw_data</c>.</summary>
    public TensorProto ToProto(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var proto = new TensorProto { Name = name, DataType = (int)ElementType, RawData = ByteString.CopyFrom(_bytes) };
        proto.Dims.AddRange(_shape);
        return proto;
    }

    /// <summary>
    /// Reads a <see cref="TensorProto"/>, whichever field holds its data (raw_data, the typed
    /// fields, or external data in a file under <paramref name="externalDataFolder"/>).
    /// </summary>
    public static HostTensor FromProto(TensorProto proto, string? externalDataFolder = null)
    {
        ArgumentNullException.ThrowIfNull(proto);
        var type = ElementTypes.Of(proto);
        var dims = proto.Dims.ToArray();
        if (type == DataType.String)
            throw new OnnxFileException($"tensor '{proto.Name}': string tensors are not supported");
        if (proto.DataLocation == TensorProto.Types.DataLocation.External)
            return FromBytes(type, dims, ExternalData.Read(proto, externalDataFolder));
        if (proto.HasRawData)
            return FromBytes(type, dims, proto.RawData.Span);

        // The size claim is checked before any data is looked at: dims such as [256, 2^54] overflow
        // a byte count, and must not pass as "0 bytes, no data" (the typed fields empty).
        var expectedBytes = ByteCount(type, dims, proto.Name);
        byte[] bytes = type switch
        {
            DataType.Float or DataType.Complex64 => MemoryMarshal.AsBytes(proto.FloatData.ToArray().AsSpan()).ToArray(),
            DataType.Double or DataType.Complex128 => MemoryMarshal.AsBytes(proto.DoubleData.ToArray().AsSpan()).ToArray(),
            DataType.Int64 => MemoryMarshal.AsBytes(proto.Int64Data.ToArray().AsSpan()).ToArray(),
            DataType.Uint64 => MemoryMarshal.AsBytes(proto.Uint64Data.ToArray().AsSpan()).ToArray(),
            DataType.Uint32 => NarrowUInt64(proto.Uint64Data),
            DataType.Int32 => MemoryMarshal.AsBytes(proto.Int32Data.ToArray().AsSpan()).ToArray(),
            // int32_data carries one element per entry for the narrow types (bits for the float ones).
            _ => NarrowInt32(proto.Int32Data, ElementTypes.SizeOf(type)),
        };
        var perElement = ElementTypes.SizeOf(type);
        if (bytes.Length != expectedBytes)
            throw new OnnxFileException(
                $"tensor '{proto.Name}' {ElementTypes.Name(type)}{FormatShape(dims)} has {bytes.Length / perElement} elements in its data fields, expected {expectedBytes / perElement}");
        return new HostTensor(type, dims, bytes);
    }

    /// <summary>Formats a shape the way error messages in this project do: <c>[2, 3]</c>.</summary>
    public static string FormatShape(IEnumerable<long> shape) => "[" + string.Join(", ", shape) + "]";

    /// <inheritdoc/>
    public override string ToString() => $"{ElementTypes.Name(ElementType)}{FormatShape(_shape)}";

    private static long CountElements(long[] shape)
    {
        long count = 1;
        foreach (var d in shape)
        {
            if (d < 0) throw new OnnxFileException($"negative dimension {d} in shape {FormatShape(shape)}");
            if (d != 0 && count > long.MaxValue / d)
                throw new OnnxFileException($"shape {FormatShape(shape)} claims more than 2^63 elements");
            count *= d;
        }
        return count;
    }

    /// <summary>The bytes a tensor of this type and shape holds; more than one array can hold is an error naming the tensor.</summary>
    private static long ByteCount(DataType type, long[] shape, string? name = null)
    {
        var count = CountElements(shape);
        var size = ElementTypes.TrySizeOf(type)
                   ?? throw new OnnxFileException($"{(name is null ? "" : $"tensor '{name}': ")}{ElementTypes.Name(type)} tensors are not supported (no fixed byte size per element)");
        if (count > Array.MaxLength / size)
            throw new OnnxFileException(
                $"{(name is null ? "" : $"tensor '{name}' ")}{ElementTypes.Name(type)}{FormatShape(shape)} would need {(decimal)count * size} bytes, more than one tensor here can hold ({Array.MaxLength})");
        return count * size;
    }

    private static byte[] NarrowInt32(IList<int> values, int size)
    {
        var bytes = new byte[values.Count * size];
        for (int i = 0; i < values.Count; i++)
        {
            var v = values[i];
            for (int b = 0; b < size; b++) bytes[i * size + b] = (byte)(v >> (8 * b));
        }
        return bytes;
    }

    private static byte[] NarrowUInt64(IList<ulong> values)
    {
        var narrowed = new uint[values.Count];
        for (int i = 0; i < narrowed.Length; i++) narrowed[i] = (uint)values[i];
        return MemoryMarshal.AsBytes(narrowed.AsSpan()).ToArray();
    }
}
