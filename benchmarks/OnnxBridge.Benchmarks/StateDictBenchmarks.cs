using BenchmarkDotNet.Attributes;
using OnnxBridge.Cli.Commands;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Serialization;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// Saving and loading a 10M-parameter (40 MB) state dict as safetensors against the raw-I/O floor
/// in the same run: a <see cref="FileStream"/> writing the same bytes with fsync (as our atomic
/// saves do), reading them back from the page cache into memory already touched (the floor the
/// issue names) and into a new tensor (what any load that leaves the parameters untouched until
/// everything is read must pay: the kernel maps and zeroes each new page as the bytes arrive).
/// </summary>
public class StateDictBenchmarks
{
    private Core.Blocks.Block _net = null!, _target = null!;
    private string _folder = null!;
    private byte[] _bytes = null!;

    [GlobalSetup]
    public void Setup()
    {
        random.manual_seed(0);
        _net = Net.Sequential().Linear(1000, 5000).Linear(5000, 1000).Build();   // 10,006,000 parameters
        _target = Net.Sequential().Linear(1000, 5000).Linear(5000, 1000).Build();
        _folder = Directory.CreateTempSubdirectory("onnxbridge-benchmarks-").FullName;
        _bytes = new byte[_net.parameters().Sum(p => p.NumberOfElements * p.ElementSize)];
        StateDicts.Save(_net, Path.Combine(_folder, "load.safetensors"));
        File.WriteAllBytes(Path.Combine(_folder, "raw.bin"), _bytes);
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true, Description = "raw write + fsync")]
    public void RawWrite()
    {
        using var stream = new FileStream(Path.Combine(_folder, "raw-write.bin"), FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(_bytes);
        stream.Flush(flushToDisk: true);
    }

    [Benchmark(Description = "safetensors save")]
    public void Save() => StateDicts.Save(_net, Path.Combine(_folder, "save.safetensors"));

    [Benchmark(Description = "raw read (page cache)")]
    public int RawRead()
    {
        using var stream = new FileStream(Path.Combine(_folder, "raw.bin"), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        stream.ReadExactly(_bytes);
        return _bytes[0];
    }

    [Benchmark(Description = "raw read into a new tensor")]
    public long RawReadIntoNewMemory() => IoFloors.ReadIntoNewTensor(Path.Combine(_folder, "raw.bin"), _bytes.Length / sizeof(float));

    [Benchmark(Description = "safetensors load")]
    public void Load() => StateDicts.Load(_target, Path.Combine(_folder, "load.safetensors"));
}
