// The README's example: a Sequential from the builder and d2l's MLP as a user block, each saved,
// exported and checked under ONNX Runtime. Run: dotnet run --project samples/BuilderApi [OUT_DIR]
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

var outDir = args.Length > 0 ? args[0] : Path.Combine("artifacts", "samples", "builder-api");
random.manual_seed(42);

var net = Net.Sequential().Linear(256).ReLU().Linear(10).Build();     // input size deferred
var y = net.forward(randn(4, 20));                                     // materializes 0.weight [256, 20]
StateDicts.Save(net, Path.Combine(outDir, "mlp.safetensors"));         // keys 0.weight, 0.bias, 2.weight, 2.bias
var spec = InputSpec.Float32("input", Dim.Named("batch"), 20);         // symbolic batch dimension
OnnxExporter.Save(net, new ExportOptions(spec), Path.Combine(outDir, "mlp.onnx"));
Console.WriteLine($"Sequential: output {string.Join("x", y.shape)}, state dict {string.Join(", ", net.state_dict().Keys)}");

var failures = 0;
foreach (var (name, block) in new (string, Block)[] { ("sequential", net), ("user-mlp", new Mlp()) })
{
    var bundle = Path.Combine(outDir, "bundles", name);
    ParityBundle.Write(bundle, block, new ExportOptions(spec), [randn(1, 20), randn(7, 20), randn(64, 20)]);
    var report = BundleVerifier.Verify(bundle, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
    Console.WriteLine($"{name}: {(report.Passed ? "PASS" : "FAIL")} (max |Δ| {report.MaxAbsoluteError:0.00e+0}) on {report.Provider}");
    if (!report.Passed) failures++;
}
return failures == 0 ? 0 : 1;

/// <summary>d2l's MLP as a user-defined block: the forward is written once against Value.</summary>
internal sealed class Mlp : Block
{
    private readonly Linear _hidden, _out;

    public Mlp() : base("MLP")
    {
        _hidden = Register("hidden", new Linear(256));
        _out = Register("out", new Linear(10));
    }

    protected override Value Forward(Value input) => _out.Call(_hidden.Call(input).Relu());
}
