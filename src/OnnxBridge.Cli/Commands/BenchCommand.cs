using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench</c>: forward time of the MLP 784-1024-1024-10 and of a small ResNet CNN
/// (<see cref="BenchNetworks.ResNet"/>) in TorchSharp (eager, no_grad) and under ONNX Runtime, in one
/// process, with ratios. ONNX Runtime is timed three ways: its own API (<c>InferenceSession.Run</c>
/// on an <c>OrtValue</c> over the caller's array, the baseline), our wrapper
/// (<see cref="OnnxModelSession.Run"/>, which copies the input in and the output out), and bound
/// (<see cref="BoundRun"/>: inputs and outputs bound once, the input copied into the bound buffer
/// each call). Each timing is the median of repeated runs after a warm-up.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var batches = new Option<int[]>("--batch") { Description = "batch sizes", DefaultValueFactory = _ => [1, 64, 1024], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "threads for both TorchSharp and ONNX Runtime (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seconds = new Option<double>("--seconds") { Description = "minimum measuring time per batch size and engine", DefaultValueFactory = _ => 1.0 };
        var runtime = new RuntimeOptionSet(ExecutionProviderPolicy.Cpu, defaultIntraOpThreads: null, saveOptimized: false);
        var command = new Command("bench", "Time TorchSharp vs ONNX Runtime forward of the MLP 784-1024-1024-10 and a small ResNet CNN in one process (ONNX Runtime raw, through our wrapper, and with I/O binding).\n\n" +
                                           "Example: onnxbridge bench --batch 1 64 1024 --threads 2\n" +
                                           "Example: onnxbridge bench --batch 1 --threads 2 --execution-mode parallel")
        {
            batches, threads, seconds,
        };
        foreach (var option in runtime.All) command.Options.Add(option);
        command.SetAction(result => Run(result.GetValue(batches)!, result.GetValue(threads), result.GetValue(seconds), runtime.Read(result, intraOpThreads: result.GetValue(threads)), result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(int[] batches, int threads, double seconds, OnnxRuntimeOptions runtime, TextWriter output)
    {
        set_num_threads(threads);
        random.manual_seed(0);
        output.WriteLine($"ONNX Runtime: {runtime}");
        Measure("MLP 784-1024-1024-10", BenchNetworks.Mlp784(), BenchNetworks.Mlp784Input, batches, threads, seconds, runtime, output);
        Measure("ResNet CNN (8x8, stem + 2 basic blocks of 16 channels, global pooling)", BenchNetworks.ResNet(), BenchNetworks.ResNetInput, batches, threads, seconds, runtime, output);
        return OnnxBridgeCli.Success;
    }

    private static void Measure(string name, Core.Blocks.Block net, InputSpec spec, int[] batches, int threads, double seconds, OnnxRuntimeOptions runtime, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        net.eval();
        var model = OnnxExporter.Export(net, new ExportOptions(spec)).ToByteArray();
        using var session = OnnxModelSession.Open(model, runtime, output.WriteLine);
        using var timings = new OrtTimings(model, session);
        var features = spec.Shape[1].Size!.Value;

        output.WriteLine(string.Create(c, $"{name}, float32, {threads} thread(s), {Environment.ProcessorCount} core(s), {session.ProviderDescription}; median of repeated runs, ms"));
        output.WriteLine(string.Create(c, $"{"batch",6} {"TorchSharp",11} {"ORT raw",9} {"ORT Run",9} {"ORT bound",10} {"Torch/bound",12} {"Run/raw",8} {"bound/raw",10} {"max |Δ|",9}"));
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            var x = randn(batch, features);
            timings.Use(TensorConvert.ToHost(x));
            var ort = timings.Measure(seconds);
            var torchMs = Timing.MedianMilliseconds(() =>
            {
                using var s = NewDisposeScope();
                using var noGrad = no_grad();
                net.forward(x);
            }, seconds);

            using var noGrad = no_grad();
            var parity = TensorComparer.Compare("output", TensorConvert.ToHost(net.forward(x)), ort.BoundOutput, Tolerance.Float32);
            output.WriteLine(string.Create(c, $"{batch,6} {torchMs,11:0.000} {ort.RawMs,9:0.000} {ort.RunMs,9:0.000} {ort.BoundMs,10:0.000} {torchMs / ort.BoundMs,12:0.00} {ort.RunMs / ort.RawMs,8:0.00} {ort.BoundMs / ort.RawMs,10:0.00} {parity.MaxAbsoluteError,9:0.0e+0}"));
        }
    }
}
