using BenchmarkDotNet.Attributes;
using OnnxBridge.Cli.Commands;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Serialization;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// Exporting a network to an ONNX file against saving its state dict as safetensors (the baseline:
/// the same weights written without a graph), so the ratio is what tracing and the graph cost.
/// </summary>
public class ExportBenchmarks
{
    private Block _net = null!;
    private ExportOptions _options = null!;
    private string _folder = null!;

    [Params("MLP 784-1024-1024-10", "ResNet basic blocks")]
    public string Model { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        TorchSharp.torch.random.manual_seed(0);
        (_net, _options) = Model.StartsWith("MLP", StringComparison.Ordinal)
            ? (BenchNetworks.Mlp784(), new ExportOptions(BenchNetworks.Mlp784Input))
            : (BenchNetworks.ResNet(), new ExportOptions(BenchNetworks.ResNetInput));
        _net.eval();
        _folder = Directory.CreateTempSubdirectory("onnxbridge-benchmarks-").FullName;
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_folder, recursive: true);

    [Benchmark(Baseline = true, Description = "state dict save (safetensors)")]
    public void SaveStateDict() => StateDicts.Save(_net, Path.Combine(_folder, "state.safetensors"));

    [Benchmark(Description = "ONNX export to a file")]
    public void Export() => OnnxExporter.Save(_net, _options, Path.Combine(_folder, "model.onnx"));
}
