using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OnnxBridge.Cli.Commands;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// One forward of the MLP 784-1024-1024-10: TorchSharp eager (the baseline) against ONNX Runtime
/// raw, through <see cref="OnnxModelSession.Run"/> and bound — the four columns of
/// <c>onnxbridge bench</c>, through the same <see cref="OrtTimings"/> calls, with statistics.
/// </summary>
public class ForwardBenchmarks
{
    private Core.Blocks.Block _net = null!;
    private Tensor _x = null!;
    private OnnxModelSession _session = null!;
    private OrtTimings _ort = null!;

    [Params(1, 64, 1024)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Settings.Threads);
        random.manual_seed(0);
        _net = BenchNetworks.Mlp784();
        _net.eval();
        var model = OnnxExporter.Export(_net, new ExportOptions(BenchNetworks.Mlp784Input)).ToByteArray();
        _session = OnnxModelSession.Open(model, new OnnxRuntimeOptions { IntraOpThreads = Settings.Threads });
        _ort = new OrtTimings(model, _session);
        _x = randn(Batch, 784);
        _ort.Use(TensorConvert.ToHost(_x));
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _ort.Dispose();
        _session.Dispose();
        _x.Dispose();
    }

    [Benchmark(Baseline = true, Description = "TorchSharp eager")]
    public void TorchSharp()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _net.forward(_x);
    }

    [Benchmark(Description = "ORT raw")]
    public float OrtRaw() => _ort.Raw();

    [Benchmark(Description = "ORT Run (wrapper)")]
    public IReadOnlyList<NamedTensor> OrtRun() => _ort.Wrapped();

    [Benchmark(Description = "ORT bound")]
    public byte OrtBound() => _ort.Bound();
}
