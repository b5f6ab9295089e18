using System.CommandLine;
using System.Globalization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Runtime.Sessions;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench-ort MODEL</c>: an exported model under ONNX Runtime alone — raw, through our
/// wrapper, bound, and on CUDA bound with the outputs left on the device — at several batch sizes.
/// Needs no libtorch, so it runs where only ONNX Runtime is (a GPU machine staged without TorchSharp).
/// </summary>
internal static class BenchOrtCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an ONNX model whose first input is float32 [batch, ...] with fixed sizes after the batch" };
        var batches = new Option<int[]>("--batch") { Description = "batch sizes", DefaultValueFactory = _ => [1, 1024, 8192], AllowMultipleArgumentsPerToken = true };
        var seconds = new Option<double>("--seconds") { Description = "minimum measuring time per batch size and mode", DefaultValueFactory = _ => 1.0 };
        var runtime = new RuntimeOptionSet(ExecutionProviderPolicy.Cpu, defaultIntraOpThreads: 0, saveOptimized: false);
        var command = new Command("bench-ort", "Time an ONNX model under ONNX Runtime alone (raw, our wrapper, I/O binding; on CUDA also outputs left on the device), no TorchSharp needed.\n\n" +
                                               "Example: onnxbridge bench-ort artifacts/bundles/mlp/model.onnx --ep cuda --batch 1 1024 8192\n" +
                                               "Example: onnxbridge bench-ort artifacts/bundles/mlp/model.onnx --ep cuda --tf32")
        {
            model, batches, seconds,
        };
        foreach (var option in runtime.All) command.Options.Add(option);
        command.SetAction(result => Run(result.GetValue(model)!, result.GetValue(batches)!, result.GetValue(seconds), runtime.Read(result), result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(string modelPath, int[] batches, double seconds, OnnxRuntimeOptions runtime, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        if (batches.Any(b => b <= 0)) throw new UsageException($"--batch sizes must be positive, got {string.Join(", ", batches)}");
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var model = Google.Protobuf.MessageExtensions.ToByteArray(Onnx.OnnxFiles.WithInlineData(Onnx.OnnxFiles.ReadModel(modelPath), folder));
        using var session = OnnxModelSession.Open(model, runtime, output.WriteLine);
        using var timings = new OrtTimings(model, session);
        var input = session.Inputs[0];
        if (input.ElementType != DataType.Float || input.Shape.Count < 1 || input.Shape.Skip(1).Any(d => d < 0))
            throw new UsageException($"bench-ort needs a first input of float32 [batch, fixed sizes...]; '{input.Name}' is {input}");

        output.WriteLine(string.Create(c, $"{modelPath} on {session.ProviderDescription}; ONNX Runtime: {runtime}; median of repeated runs, ms"));
        output.WriteLine(string.Create(c, $"{"batch",6} {"ORT raw",9} {"ORT Run",9} {"ORT bound",10} {"bound, on device",17} {"Run/raw",8} {"bound/raw",10} {"device/raw",11}"));
        var random = new Random(0);
        foreach (var batch in batches)
        {
            long[] shape = [batch, .. input.Shape.Skip(1)];
            var values = new float[shape.Aggregate(1L, (a, b) => a * b)];
            for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
            timings.Use(HostTensor.Create(values, shape));
            var t = timings.Measure(seconds);
            var device = t.DeviceMs is { } ms ? ms.ToString("0.000", c) : "-";
            var deviceRatio = t.DeviceMs is { } d ? (d / t.RawMs).ToString("0.00", c) : "-";
            output.WriteLine(string.Create(c, $"{batch,6} {t.RawMs,9:0.000} {t.RunMs,9:0.000} {t.BoundMs,10:0.000} {device,17} {t.RunMs / t.RawMs,8:0.00} {t.BoundMs / t.RawMs,10:0.00} {deviceRatio,11}"));
        }
        return OnnxBridgeCli.Success;
    }
}
