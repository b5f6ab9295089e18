using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Copies between TorchSharp tensors and <see cref="HostTensor"/> (and, for the exporter, ONNX initializers).</summary>
public static class TensorConvert
{
    /// <summary>Copies a tensor (any device, any layout) into host memory.</summary>
    public static HostTensor ToHost(Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        return WithBytes(tensor, bytes => HostTensor.FromBytes(DTypes.ToOnnx(tensor.dtype), tensor.shape, bytes));
    }

    /// <summary>
    /// Hands <paramref name="use"/> the tensor's bytes, row-major, from its own memory — a contiguous
    /// CPU copy is made only for a tensor that is not one already, and freed afterwards. The one way
    /// savers, the exporter and the hash read tensor memory.
    /// </summary>
    internal static T WithBytes<T>(Tensor tensor, Func<ReadOnlySpan<byte>, T> use)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        return use(cpu.bytes);
    }

    /// <inheritdoc cref="WithBytes{T}(Tensor, Func{ReadOnlySpan{byte}, T})"/>
    internal static void WithBytes(Tensor tensor, Action<ReadOnlySpan<byte>> use) => WithBytes(tensor, bytes =>
    {
        use(bytes);
        return true;
    });

    /// <summary>
    /// An ONNX initializer with <c>raw_data</c> copied straight from the tensor's memory (one copy,
    /// where going through <see cref="ToHost"/> would make two).
    /// </summary>
    internal static TensorProto ToProto(string name, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(tensor);
        var proto = new TensorProto { Name = name, DataType = (int)DTypes.ToOnnx(tensor.dtype), RawData = WithBytes(tensor, ByteString.CopyFrom) };
        proto.Dims.AddRange(tensor.shape);
        return proto;
    }

    /// <summary>
    /// Copies <paramref name="host"/> into an existing tensor of the same shape and dtype: straight
    /// into its memory when it is a contiguous CPU tensor, through a temporary tensor otherwise.
    /// </summary>
    public static void CopyInto(HostTensor host, Tensor target)
    {
        ArgumentNullException.ThrowIfNull(host);
        ArgumentNullException.ThrowIfNull(target);
        if (target.device_type == TorchSharp.DeviceType.CPU && target.is_contiguous() && DTypes.ToOnnx(target.dtype) == host.ElementType
            && target.shape.SequenceEqual(host.Shape))
        {
            if (host.ElementCount > 0) target.bytes = System.Runtime.InteropServices.MemoryMarshal.AsMemory(host.Bytes).Span; // the setter only reads
            return;
        }
        using var value = ToTorch(host);
        target.copy_(value);
    }

    /// <summary>Creates a new CPU tensor holding a copy of <paramref name="host"/>.</summary>
    public static Tensor ToTorch(HostTensor host)
    {
        ArgumentNullException.ThrowIfNull(host);
        var tensor = empty(host.Shape.ToArray(), DTypes.ToTorch(host.ElementType));
        if (host.ElementCount > 0) tensor.bytes = host.Bytes.ToArray();
        return tensor;
    }
}
