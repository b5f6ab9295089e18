using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench-io</c>: save and load of a large float32 state dict in each format, timed
/// against writing and reading the same number of bytes with a plain FileStream (the I/O floor),
/// with the managed memory each operation allocated. All in one process; medians of three runs.
/// </summary>
internal static class BenchIoCommand
{
    private const int Layers = 10;

    public static Command Create()
    {
        var parameters = new Option<long>("--params") { Description = "parameters in the state dict (float32)", DefaultValueFactory = _ => 100_000_000 };
        var folder = new Option<string?>("--folder") { Description = "where to write the files (default: a temporary folder)" };
        var command = new Command("bench-io", "Time state-dict save/load in safetensors, PyTorch .pt and TorchSharp .dat against raw FileStream I/O.\n\n" +
                                              "Example: onnxbridge bench-io --params 100000000")
        {
            parameters, folder,
        };
        command.SetAction(result => Run(result.GetValue(parameters), result.GetValue(folder), result.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(long parameters, string? folder, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        var dir = folder ?? Path.Combine(Path.GetTempPath(), "onnxbridge-bench-io-" + Environment.ProcessId.ToString(c));
        Directory.CreateDirectory(dir);
        try
        {
            // Ten Linear layers of about parameters/10 each.
            var outFeatures = Math.Max(1, parameters / Layers / 1001);
            random.manual_seed(0);
            var net = Network(outFeatures, initialize: true);
            var fresh = Network(outFeatures, initialize: false);
            var bytes = net.parameters().Sum(p => p.numel()) * 4;
            output.WriteLine(string.Create(c, $"state dict: {bytes / 4:N0} float32 parameters ({bytes / 1e6:0} MB) in {Layers} Linear layers; folder {dir}"));

            var buffer = new byte[bytes];
            Random.Shared.NextBytes(buffer); // touch every page before timing
            var raw = Path.Combine(dir, "raw.bin");
            var (rawWrite, _) = Measure(() =>
            {
                using var stream = new FileStream(raw, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                stream.Write(buffer);
                stream.Flush(flushToDisk: true);
            });
            var (rawRead, _) = Measure(() =>
            {
                using var stream = new FileStream(raw, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                stream.ReadExactly(buffer);
            });
            var (rawReadNew, _) = Measure(() => IoFloors.ReadIntoNewTensor(raw, bytes / 4));
            File.Delete(raw);
            buffer = null;
            output.WriteLine(string.Create(c, $"raw FileStream: write {rawWrite:0.00} s ({bytes / rawWrite / 1e9:0.00} GB/s, with fsync), read {rawRead:0.00} s ({bytes / rawRead / 1e9:0.00} GB/s, page cache)"));
            output.WriteLine(string.Create(c, $"  read into a new tensor {rawReadNew:0.00} s ({rawReadNew / rawRead:0.00}x the read: the kernel maps and zeroes each new page)"));
            output.WriteLine(string.Create(c, $"{"format",-12} {"save s",7} {"x raw",6} {"save alloc MB",14} {"load s",7} {"x raw",6} {"load alloc MB",14}"));

            foreach (var file in new[] { "state.safetensors", "state.pt", "state.dat" })
            {
                var path = Path.Combine(dir, file);
                var (save, savePeak) = Measure(() => StateDicts.Save(net, path));
                var (load, loadPeak) = Measure(() => StateDicts.Load(fresh, path));
                using (no_grad())
                {
                    if (!net.parameters().Zip(fresh.parameters()).All(p => p.First.equal(p.Second).all().item<bool>()))
                        throw new InvalidOperationException($"{file}: the loaded parameters differ from the saved ones");
                }
                output.WriteLine(string.Create(c, $"{Path.GetExtension(file),-12} {save,7:0.00} {save / rawWrite,6:0.00} {savePeak / 1e6,14:0} {load,7:0.00} {load / rawRead,6:0.00} {loadPeak / 1e6,14:0}"));
                File.Delete(path);
            }

            // ONNX export with the weights streamed to external data.
            var onnxPath = Path.Combine(dir, "model.onnx");
            var options = new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 1000)) { ExternalDataThreshold = 0 };
            var (export, exportAlloc) = Measure(() => OnnxExporter.Save(net, options, onnxPath));
            output.WriteLine(string.Create(c, $"{"onnx+data",-12} {export,7:0.00} {export / rawWrite,6:0.00} {exportAlloc / 1e6,14:0}   (export: the weights stream from the parameters into model.onnx.*.data)"));
            foreach (var f in Directory.GetFiles(dir, "model.onnx*")) File.Delete(f);
            return OnnxBridgeCli.Success;
        }
        finally
        {
            if (folder is null) Directory.Delete(dir, recursive: true);
        }
    }

    private static Sequential Network(long outFeatures, bool initialize)
    {
        using var noGrad = no_grad();
        var net = new Sequential();
        // Alternating 1000 → N and N → 1000, so the layers chain and the network also exports.
        for (int i = 0; i < Layers; i++) net.Append(i % 2 == 0 ? new Linear(1000, outFeatures) : new Linear(outFeatures, 1000));
        if (!initialize) foreach (var p in net.parameters()) p.zero_();
        return net;
    }

    /// <summary>
    /// The median seconds over three runs, and the most managed memory one run allocated (the
    /// buffers a format needs besides the parameters themselves, which live in libtorch).
    /// </summary>
    private static (double Seconds, long AllocatedBytes) Measure(Action action)
    {
        var seconds = new List<double>();
        long allocated = 0;
        for (int run = 0; run < 3; run++)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            var before = GC.GetAllocatedBytesForCurrentThread();
            var watch = Stopwatch.StartNew();
            action();
            seconds.Add(watch.Elapsed.TotalSeconds);
            allocated = Math.Max(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        seconds.Sort();
        return (seconds[1], allocated);
    }
}
