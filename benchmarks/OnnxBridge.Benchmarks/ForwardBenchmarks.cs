using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using OnnxBridge.Cli.Commands;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// One forward of the MLP 784-1024-1024-10: TorchSharp eager (the baseline) against ONNX Runtime
/// raw (its own API over the caller's array), through <see cref="OnnxModelSession.Run"/> and bound
/// (<see cref="BoundRun"/>) — the four columns of <c>onnxbridge bench</c>, with statistics.
/// </summary>
public class ForwardBenchmarks
{
    private Core.Blocks.Block _net = null!;
    private Tensor _x = null!;
    private OnnxModelSession _session = null!;
    private InferenceSession _raw = null!;
    private RunOptions _runOptions = null!;
    private BoundRun _bound = null!;
    private HostTensor _host = null!;
    private NamedTensor[] _feed = null!;
    private float[] _values = null!;

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
        var options = new OnnxRuntimeOptions { IntraOpThreads = Settings.Threads };
        _session = OnnxModelSession.Open(model, options);
        using var sessionOptions = options.CreateSessionOptions();
        _raw = new InferenceSession(model, sessionOptions);
        _runOptions = new RunOptions();
        _x = randn(Batch, 784);
        _host = TensorConvert.ToHost(_x);
        _values = _host.ToArray<float>();
        _feed = [new NamedTensor("input", _host)];
        _bound = _session.Bind(_feed);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _bound.Dispose();
        _runOptions.Dispose();
        _raw.Dispose();
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
    public float OrtRaw()
    {
        using var value = OrtValue.CreateTensorValueFromMemory(_values, [Batch, 784]);
        using var results = _raw.Run(_runOptions, ["input"], [value], ["output"]);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    [Benchmark(Description = "ORT Run (wrapper)")]
    public IReadOnlyList<NamedTensor> OrtRun() => _session.Run(_feed);

    [Benchmark(Description = "ORT bound")]
    public byte OrtBound()
    {
        _host.Bytes.Span.CopyTo(_bound.Input(0));
        _bound.Run();
        return _bound.Output(0)[0];
    }
}
