using BenchmarkDotNet.Attributes;
using Google.Protobuf;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// The Transformer encoder of issue #16 (4 layers, d_model 256, 4 heads, feed-forward 1024, dropout
/// 0.1, sequence 64, time-major): a training step (forward, loss, backward, SGD) of our
/// <see cref="TransformerEncoder"/> against TorchSharp's own <c>nn.TransformerEncoder</c> of
/// <c>nn.TransformerEncoderLayer</c>s (the baseline), and inference of ours eagerly against its
/// ONNX export under ONNX Runtime.
/// </summary>
public class TransformerBenchmarks
{
    private const int Steps = 64, DModel = 256, Heads = 4, FeedForward = 1024, Layers = 4;
    private TransformerEncoder _ours = null!;
    private TorchSharp.Modules.TransformerEncoder _plain = null!;
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
        _ours = new TransformerEncoder(new TransformerEncoderLayer(DModel, Heads, FeedForward, 0.1), Layers);
        _plain = nn.TransformerEncoder(nn.TransformerEncoderLayer(DModel, Heads, FeedForward, 0.1), Layers);
        _x = randn(Steps, Batch, DModel);
        _oursOptimizer = optim.SGD(_ours.parameters(), 0.01);
        _plainOptimizer = optim.SGD(_plain.parameters(), 0.01);
        _ours.eval();
        var model = OnnxExporter.Export(_ours, new ExportOptions(InputSpec.Float32("x", Dim.Named("seq"), Dim.Named("batch"), DModel)));
        _session = OnnxModelSession.Open(model.ToByteArray(), new OnnxRuntimeOptions { IntraOpThreads = Settings.Threads });
        _feeds = [new("x", TensorConvert.ToHost(_x))];
        _ours.train();
        _plain.train();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _session.Dispose();
        _oursOptimizer.Dispose();
        _plainOptimizer.Dispose();
        _x.Dispose();
    }

    [Benchmark(Baseline = true, Description = "train step, TorchSharp nn.TransformerEncoder")]
    public void PlainStep()
    {
        using var scope = NewDisposeScope();
        _plainOptimizer.zero_grad();
        _plain.forward(_x, null, null).square().mean().backward();
        _plainOptimizer.step();
    }

    [Benchmark(Description = "train step, OnnxBridge TransformerEncoder")]
    public void OursStep()
    {
        using var scope = NewDisposeScope();
        _oursOptimizer.zero_grad();
        _ours.forward(_x).square().mean().backward();
        _oursOptimizer.step();
    }

    [Benchmark(Description = "inference, OnnxBridge TransformerEncoder eager")]
    public void OursInference()
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        _ours.eval();
        _ours.forward(_x);
        _ours.train();
    }

    [Benchmark(Description = "inference, its export under ONNX Runtime")]
    public int OrtInference() => _session.Run(_feeds).Count;
}
