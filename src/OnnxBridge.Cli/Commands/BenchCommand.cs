using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench</c>: forward time of the MLP 784-1024-1024-10 and of a small ResNet CNN
/// (<see cref="BenchNetworks.ResNet"/>) in TorchSharp (eager, no_grad) and under ONNX Runtime's CPU
/// provider, in one process, with their ratio. Each timing is the median
/// of repeated runs after a warm-up; the ONNX Runtime figure includes copying the input into and the
/// output out of ONNX Runtime, as a caller of <see cref="OnnxModelSession.Run"/> pays it.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var batches = new Option<int[]>("--batch") { Description = "batch sizes", DefaultValueFactory = _ => [1, 64, 1024], AllowMultipleArgumentsPerToken = true };
        var threads = new Option<int>("--threads") { Description = "threads for both TorchSharp and ONNX Runtime (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var seconds = new Option<double>("--seconds") { Description = "minimum measuring time per batch size and engine", DefaultValueFactory = _ => 1.0 };
        var command = new Command("bench", "Time TorchSharp vs ONNX Runtime (CPU) forward of the MLP 784-1024-1024-10 and a small ResNet CNN in one process.\n\n" +
                                           "Example: onnxbridge bench --batch 1 64 1024 --threads 2")
        {
            batches, threads, seconds,
        };
        command.SetAction(result => Run(result.GetValue(batches)!, result.GetValue(threads), result.GetValue(seconds), result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(int[] batches, int threads, double seconds, TextWriter output)
    {
        set_num_threads(threads);
        random.manual_seed(0);
        var mlpInput = InputSpec.Float32("input", Dim.Named("batch"), 784);
        Measure("MLP 784-1024-1024-10", Net.Sequential().Input(mlpInput).Linear(1024).ReLU().Linear(1024).ReLU().Linear(10).Build(), mlpInput, batches, threads, seconds, output);
        var imageInput = InputSpec.Float32("input", Dim.Named("batch"), 64);
        Measure("ResNet CNN (8x8, stem + 2 basic blocks of 16 channels, global pooling)", BenchNetworks.ResNet(), imageInput, batches, threads, seconds, output);
        return OnnxBridgeCli.Success;
    }

    private static void Measure(string name, Core.Blocks.Block net, InputSpec spec, int[] batches, int threads, double seconds, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        net.eval();
        var model = OnnxExporter.Export(net, new ExportOptions(spec)).ToByteArray();
        using var session = OnnxModelSession.Open(model, ExecutionProviderPolicy.Cpu, intraOpThreads: threads);
        var features = spec.Shape[1].Size!.Value;

        output.WriteLine(string.Create(c, $"{name}, float32, {threads} thread(s), {Environment.ProcessorCount} core(s); median of repeated runs"));
        output.WriteLine(string.Create(c, $"{"batch",6} {"TorchSharp ms",14} {"ORT CPU ms",11} {"Torch/ORT",10} {"max |Δ|",9}"));
        foreach (var batch in batches)
        {
            using var scope = NewDisposeScope();
            var x = randn(batch, features);
            var feed = new[] { new NamedTensor("input", TensorConvert.ToHost(x)) };
            var ortMs = Timing.MedianMilliseconds(() => session.Run(feed), seconds);
            var torchMs = Timing.MedianMilliseconds(() =>
            {
                using var s = NewDisposeScope();
                using var noGrad = no_grad();
                net.forward(x);
            }, seconds);

            using var noGrad = no_grad();
            var parity = TensorComparer.Compare("output", TensorConvert.ToHost(net.forward(x)), session.Run(feed)[0].Tensor, Tolerance.Float32);
            output.WriteLine(string.Create(c, $"{batch,6} {torchMs,14:0.000} {ortMs,11:0.000} {torchMs / ortMs,10:0.00} {parity.MaxAbsoluteError,9:0.0e+0}"));
        }
    }
}
