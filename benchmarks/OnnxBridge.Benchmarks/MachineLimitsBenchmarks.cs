using BenchmarkDotNet.Attributes;
using OnnxBridge.Cli.Commands;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// This machine's limits, measured in the same run as the forwards, which Program compares them
/// with: the single-precision GEMM rate (a 1024³ matrix product in libtorch's BLAS; large batches
/// are bound by it) and how fast the MLP 784-1024-1024-10's weights can be read (a sum over each,
/// libtorch's vectorized reduction on every core; batch 1 reads each weight once, so memory bandwidth
/// bounds it). The sum is a reference reader, not a proven floor: ONNX Runtime's batch-1 forward
/// moved the same bytes faster than it in the first run (49 against 37 GB/s).
/// </summary>
public class MachineLimitsBenchmarks
{
    private Tensor _a = null!, _b = null!;
    private Tensor[] _weights = [];

    /// <summary>2·1024³ floating-point operations.</summary>
    public const double Flops = 2.0 * 1024 * 1024 * 1024;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Settings.Threads);
        random.manual_seed(0);
        _a = randn(1024, 1024);
        _b = randn(1024, 1024);
        var mlp = BenchNetworks.Mlp784();
        _weights = [.. mlp.parameters().Select(p => p.detach().clone())];
        mlp.Dispose();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
        foreach (var w in _weights) w.Dispose();
    }

    [Benchmark(Description = "TorchSharp mm 1024³")]
    public void Matmul()
    {
        using var product = _a.mm(_b);
    }

    [Benchmark(Description = "sum of the MLP's weights (a read of each)")]
    public void ReadMlpWeights()
    {
        foreach (var w in _weights)
        {
            using var sum = w.sum();
        }
    }
}
