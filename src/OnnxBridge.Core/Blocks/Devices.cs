using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// d2l's device helpers. TorchSharp here runs on libtorch's CPU build, so these report no GPU and
/// hand out the CPU — honestly, never pretending. ONNX Runtime picks its CUDA device separately
/// (<c>OnnxModelSession.Open(path, OnnxRuntimeOptions.On(policy, deviceId: i))</c>).
/// </summary>
public static class Devices
{
    /// <summary>The number of CUDA devices TorchSharp can use (d2l's <c>num_gpus()</c>).</summary>
    public static int GpuCount => cuda.is_available() ? cuda.device_count() : 0;

    /// <summary>The <paramref name="index"/>-th GPU if it exists, else the CPU (d2l's <c>try_gpu(i)</c>).</summary>
    public static Device TryGpu(int index = 0)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        return index < GpuCount ? CUDA(index) : CPU;
    }

    /// <summary>All GPUs, or the CPU alone when there is none (d2l's <c>try_all_gpus()</c>).</summary>
    public static IReadOnlyList<Device> TryAllGpus() =>
        GpuCount > 0 ? [.. Enumerable.Range(0, GpuCount).Select(i => CUDA(i))] : [CPU];

    private static Device CUDA(int index) => new(TorchSharp.DeviceType.CUDA, index);
}
