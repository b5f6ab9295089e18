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
/// against writing and reading the same number of bytes with a plain FileStream (the I/O floors:
/// a write with fsync, a page-cache read into memory already touched, and one into a new tensor),
/// with the managed memory each operation allocated. All in one process, each operation timed in
/// rounds interleaved with its floors.
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
            Action rawWrite = () =>
            {
                using var stream = new FileStream(raw, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
                stream.Write(buffer);
                stream.Flush(flushToDisk: true);
            };
            Action rawRead = () =>
            {
                using var stream = new FileStream(raw, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
                stream.ReadExactly(buffer);
            };
            Action rawReadNew = () => IoFloors.ReadIntoNewTensor(raw, bytes / 4);
            rawWrite();
            output.WriteLine(string.Create(c, $"each figure: the median of {Rounds} rounds; each ratio: the median of the per-round ratios, the floor timed in the same round"));
            output.WriteLine(string.Create(c, $"{"format",-12} {"save s",7} {"x write",8} {"load s",7} {"x read",7} {"x new-read",11} {"save MB",8} {"load MB",8}"));

            foreach (var file in new[] { "state.safetensors", "state.pt", "state.dat" })
            {
                var path = Path.Combine(dir, file);
                var save = Paired(() => StateDicts.Save(net, path), rawWrite);
                var load = Paired(() => StateDicts.Load(fresh, path), rawRead, rawReadNew);
                using (no_grad())
                {
                    if (!net.parameters().Zip(fresh.parameters()).All(p => p.First.equal(p.Second).all().item<bool>()))
                        throw new InvalidOperationException($"{file}: the loaded parameters differ from the saved ones");
                }
                output.WriteLine(string.Create(c, $"{Path.GetExtension(file),-12} {save.Seconds,7:0.00} {save.Ratios[0],8:0.00} {load.Seconds,7:0.00} {load.Ratios[0],7:0.00} {load.Ratios[1],11:0.00} {save.AllocatedBytes / 1e6,8:0} {load.AllocatedBytes / 1e6,8:0}"));
                File.Delete(path);
            }
            // ONNX export with the weights streamed to external data.
            var onnxPath = Path.Combine(dir, "model.onnx");
            var options = new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 1000)) { ExternalDataThreshold = 0 };
            var export = Paired(() => OnnxExporter.Save(net, options, onnxPath), rawWrite);
            output.WriteLine(string.Create(c, $"{"onnx+data",-12} {export.Seconds,7:0.00} {export.Ratios[0],8:0.00} {"",7} {"",7} {"",11} {export.AllocatedBytes / 1e6,8:0}   (export: the weights stream from the parameters into model.onnx.*.data)"));
            foreach (var f in Directory.GetFiles(dir, "model.onnx*")) File.Delete(f);

            var floors = (Write: Median(rawWrite), Read: Median(rawRead), New: Median(rawReadNew));
            File.Delete(raw);
            output.WriteLine(string.Create(c, $"floors: raw write {floors.Write:0.00} s ({bytes / floors.Write / 1e9:0.00} GB/s, with fsync); page-cache read {floors.Read:0.00} s ({bytes / floors.Read / 1e9:0.00} GB/s, into memory already touched);"));
            output.WriteLine(string.Create(c, $"  read into a new tensor {floors.New:0.00} s ({floors.New / floors.Read:0.00}x the read: the kernel maps and zeroes each new page). A load that changes nothing when it fails must read into new memory (docs/benchmarks.md)."));

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

    private const int Rounds = 9;

    /// <summary>
    /// Times <paramref name="action"/> against its floors in <see cref="Rounds"/> interleaved rounds (the
    /// order rotating) after one untimed run of each, so that each ratio compares runs of the same moment on a shared machine whose
    /// disk and page-fault costs drift: the median seconds, the median per-round ratio to each floor,
    /// and the most managed memory one run allocated (the buffers a format needs besides the
    /// parameters themselves, which live in libtorch).
    /// </summary>
    private static (double Seconds, double[] Ratios, long AllocatedBytes) Paired(Action action, params Action[] floors)
    {
        var seconds = new List<double>();
        var ratios = floors.Select(_ => new List<double>()).ToArray();
        long allocated = 0;
        // One untimed run of each first: the first save of a run was 3-4x slower than the next on
        // this VM (its file pages land in memory the host has to map back in), whichever format it was.
        action();
        foreach (var floor in floors) floor();
        for (int round = 0; round < Rounds; round++)
        {
            var floorSeconds = new double[floors.Length];
            double ours = 0;
            // Rotate which runs first: whatever the previous run left (freed pages, a dirty page cache) falls on each side in turn.
            for (int step = 0; step <= floors.Length; step++)
            {
                var which = (step + round) % (floors.Length + 1);
                if (which < floors.Length) floorSeconds[which] = Time(floors[which]);
                else
                {
                    var before = GC.GetAllocatedBytesForCurrentThread();
                    ours = Time(action);
                    allocated = Math.Max(allocated, GC.GetAllocatedBytesForCurrentThread() - before);
                }
            }
            seconds.Add(ours);
            for (int f = 0; f < floors.Length; f++) ratios[f].Add(ours / floorSeconds[f]);
        }
        return (Timing.Median(seconds), [.. ratios.Select(Timing.Median)], allocated);
    }

    private static double Median(Action action) => Timing.Median([.. Enumerable.Range(0, Rounds).Select(_ => Time(action))]);

    private static double Time(Action action)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        var watch = Stopwatch.StartNew();
        action();
        return watch.Elapsed.TotalSeconds;
    }
}
