using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "GPUs": device queries, placement, and ONNX Runtime's choice of device.</summary>
internal static class GpuDevices
{
    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "GPUs");
        output.WriteLine($"num_gpus() = {Devices.GpuCount}");
        output.WriteLine($"try_gpu() = {Devices.TryGpu()}, try_gpu(10) = {Devices.TryGpu(10)}, try_all_gpus() = [{string.Join(", ", Devices.TryAllGpus())}]");
        if (Devices.GpuCount == 0) output.WriteLine("No GPU is visible to TorchSharp (its CPU libtorch is used here): everything below runs on the CPU.");

        var x = ones([2, 3], device: Devices.TryGpu());
        output.WriteLine($"X = ones(2, 3, device=try_gpu()) is on {x.device}");
        var z = x.to(Devices.TryGpu(1));
        output.WriteLine($"Z = X.to(try_gpu(1)) is on {z.device}; X + Z = {Print.Values(x + z)}");

        var net = Net.Sequential().Linear(1).Build();
        net.to(Devices.TryGpu());
        output.WriteLine($"net(X) = {Print.Values(net.forward(x))}, net[0].weight is on {net.Layer<Core.Layers.Linear>(0).Weight!.device}");

        // ONNX Runtime picks its own device: CUDA device i when its provider loads, else the CPU, loudly.
        exports.Check("gpu-net", net, InputSpec.Float32("input", Dim.Named("batch"), 3), rand(1, 3), rand(7, 3));
        using var session = OnnxModelSession.Open(Path.Combine(exports.Root, "gpu-net", "model.onnx"), OnnxRuntimeOptions.On(ExecutionProviderPolicy.Auto, deviceId: 0), output.WriteLine);
        output.WriteLine($"ONNX Runtime session for device 0 runs on {session.ProviderDescription}");
    }
}
