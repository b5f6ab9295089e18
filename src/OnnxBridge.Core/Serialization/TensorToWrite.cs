using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// One tensor for a writer (safetensors, a PyTorch archive's storage record): its type and shape,
/// and the callback that writes exactly <see cref="ByteCount"/> bytes of it — straight from a
/// TorchSharp tensor's memory when saving a state dict, so no host copy of the weights is made.
/// </summary>
internal sealed record TensorToWrite(string Name, DataType Type, IReadOnlyList<long> Shape, long ByteCount, Action<Stream> WriteBytes)
{
    public static TensorToWrite FromHost(string name, HostTensor tensor) =>
        new(name, tensor.ElementType, tensor.Shape, tensor.Bytes.Length, stream => stream.Write(tensor.Bytes.Span));

    /// <summary>Writes the tensor's own memory (a contiguous CPU copy only for a tensor that is not one already).</summary>
    public static TensorToWrite FromTorch(string name, Tensor tensor) =>
        new(name, DTypes.ToOnnx(tensor.dtype), tensor.shape, tensor.NumberOfElements * tensor.ElementSize, stream => TensorConvert.WithBytes(tensor, stream.Write));

    /// <summary>
    /// Calls <see cref="WriteBytes"/> on <paramref name="stream"/> (whose Position must count the
    /// bytes written) and checks it wrote what it declared.
    /// </summary>
    /// <exception cref="InvalidOperationException">It wrote another number of bytes.</exception>
    public void WriteTo(Stream stream)
    {
        var start = stream.Position;
        WriteBytes(stream);
        if (stream.Position - start != ByteCount)
            throw new InvalidOperationException($"tensor '{Name}' declared {ByteCount} bytes but wrote {stream.Position - start}");
    }
}
