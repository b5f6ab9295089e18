using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// The LSTM of issue #16 (2 layers, hidden 256, input 256, sequence 64): a training step (forward,
/// loss, backward, SGD) of our layer — eagerly it runs libtorch's kernel on its own parameters
/// (FusedRecurrence), so this measures what the block around it costs — against TorchSharp's own
/// <c>nn.LSTM</c> (the baseline), and inference of ours eagerly against its ONNX export under ONNX
/// Runtime.
/// </summary>
public class RecurrentBenchmarks
{
    private const int Steps = 64, Features = 256;
    private LSTM _ours = null!;
    private TorchSharp.Modules.LSTM _plain = null!;
    private optim.Optimizer _oursOptimizer = null!, _plainOptimizer = null!;
    private Tensor _x = null!;
    private OnnxModelSession _session = null!;
    private IReadOnlyList<Onnx.TestCases.NamedTensor> _feeds = null!;

    [Params(1, 32)]
    public int Batch { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Settings.Threads);
        random.manual_seed(0);
        _ours = new LSTM(Features, 256, numLayers: 2);
        _plain = nn.LSTM(Features, 256, numLayers: 2);
        _x = randn(Steps, Batch, Features);
        _oursOptimizer = optim.SGD(_ours.parameters(), 0.01);
        _plainOptimizer = optim.SGD(_plain.parameters(), 0.01);
        _ours.eval();
        var model = OnnxExporter.Export(_ours, new ExportOptions(InputSpec.Float32("x", Dim.Named("seq"), Dim.Named("batch"), Features)) { OutputNames = ["y", "h", "c"] });
        _session = OnnxModelSession.Open(model.ToByteArray(), new OnnxRuntimeOptions { IntraOpThreads = Settings.Threads });
        _feeds = [new("x", TensorConvert.ToHost(_x))];
        _ours.train();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _oursOptimizer.Dispose();
        _plainOptimizer.Dispose();
        _x.Dispose();
    }

    [Benchmark(Baseline = true, Description = "train step, TorchSharp nn.LSTM")]
    public void PlainStep()
    {
        using var scope = NewDisposeScope();
        _plainOptimizer.zero_grad();
        var (y, _, _) = _plain.forward(_x);
        y.square().mean().backward();
        _plainOptimizer.step();
    }

    [Benchmark(Description = "train step, OnnxBridge LSTM")]
    public void OursStep()
    {
        using var scope = NewDisposeScope();
        _oursOptimizer.zero_grad();
        _ours.forward_all(_x)[0].square().mean().backward();
        _oursOptimizer.step();
    }

    [Benchmark(Description = "inference, OnnxBridge LSTM eager")]
    public void OursInference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _ours.forward_all(_x);
    }

    [Benchmark(Description = "inference, its export under ONNX Runtime")]
    public int OrtInference() => _session.Run(_feeds).Count;
}
