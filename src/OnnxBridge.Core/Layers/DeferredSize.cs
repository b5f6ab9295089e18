using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What a deferred layer (PyTorch's lazy modules) learns from its first input: the size it was
/// waiting for, and the dtype and device its parameters should take.
/// </summary>
internal static class DeferredSize
{
    /// <summary>
    /// The size of <paramref name="dimension"/> in <paramref name="input"/> (null: the input's rank is
    /// wrong for the layer), or an error — during export one naming the block path — built from
    /// <paramref name="problem"/> when that size is not known.
    /// </summary>
    public static (long Size, ScalarType DType, Device Device) From(Value input, Dim? dimension, Func<string, string> problem)
    {
        if (dimension is not { IsKnown: true } known)
        {
            var message = problem(Dim.Format(input.Shape));
            throw GraphRecorder.Current?.Error(message) ?? (Exception)new InvalidOperationException(message);
        }
        var (dtype, device) = input.IsSymbolic ? (DTypes.ToTorch(input.ElementType), CPU) : (input.Tensor.dtype, input.Tensor.device);
        return (known.Size!.Value, dtype, device);
    }
}
