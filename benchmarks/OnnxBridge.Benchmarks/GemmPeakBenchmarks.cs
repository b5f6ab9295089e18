using BenchmarkDotNet.Attributes;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// This machine's single-precision GEMM rate, measured in the same run as the forwards: a 1024³
/// matrix product in TorchSharp (libtorch's BLAS). Program divides the forwards' FLOP rates by it
/// ("% of GEMM peak").
/// </summary>
public class GemmPeakBenchmarks
{
    private Tensor _a = null!, _b = null!;

    /// <summary>2·1024³ floating-point operations.</summary>
    public const double Flops = 2.0 * 1024 * 1024 * 1024;

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Settings.Threads);
        random.manual_seed(0);
        _a = randn(1024, 1024);
        _b = randn(1024, 1024);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _a.Dispose();
        _b.Dispose();
    }

    [Benchmark(Description = "TorchSharp mm 1024³")]
    public void Matmul()
    {
        using var product = _a.mm(_b);
    }
}
