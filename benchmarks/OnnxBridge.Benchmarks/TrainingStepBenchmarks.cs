using BenchmarkDotNet.Attributes;
using OnnxBridge.Cli.Commands;
using OnnxBridge.Core.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// One SGD step (momentum 0.9, training mode) of a network built with our builder against the same
/// network as plain TorchSharp modules with the same weights — <c>onnxbridge bench-train</c>'s cases,
/// with statistics. The ratio is the cost of our abstraction during training (target ≤ 1.05).
/// </summary>
public class TrainingStepBenchmarks
{
    private Block _ours = null!;
    private nn.Module<Tensor, Tensor> _plain = null!;
    private optim.Optimizer _oursOptimizer = null!, _plainOptimizer = null!;
    private Tensor _x = null!, _y = null!;

    [ParamsSource(nameof(Networks))]
    public string Network { get; set; } = "";

    public static IEnumerable<string> Networks => BenchTrainCommand.Cases().Select(c => c.Name).ToList();

    [GlobalSetup]
    public void Setup()
    {
        set_num_threads(Settings.Threads);
        var (_, batch, features, ours, plain) = BenchTrainCommand.Cases().First(c => c.Name == Network);
        (_ours, _plain) = (ours, plain);
        _x = randn(batch, features);
        _y = randint(10, [batch]);
        BenchTrainCommand.CopyWeights(_ours, _plain);
        _ours.train();
        _plain.train();
        _oursOptimizer = optim.SGD(_ours.parameters(), 0.01, momentum: 0.9);
        _plainOptimizer = optim.SGD(_plain.parameters(), 0.01, momentum: 0.9);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _oursOptimizer.Dispose();
        _plainOptimizer.Dispose();
        _x.Dispose();
        _y.Dispose();
    }

    [Benchmark(Baseline = true, Description = "plain TorchSharp step")]
    public void Plain() => BenchTrainCommand.Step(_plain, _plainOptimizer, _x, _y);

    [Benchmark(Description = "builder step")]
    public void Builder() => BenchTrainCommand.Step(_ours, _oursOptimizer, _x, _y);
}
