// Builds, trains, saves, exports and verifies a network with nothing but the OnnxBridge packages,
// then writes it into a Triton-layout model repository for the MinimalHost consumer to serve.
// Run: dotnet run -- OUT_DIR
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using static TorchSharp.torch;

var outDir = args.Length > 0 ? args[0] : "out";
random.manual_seed(7);

// A task the network has to learn: which of the first three of eight features is the largest.
var features = randn(1200, 8);
var labels = features[.., ..3].argmax(1);
using var data = new TensorDataset(features, labels);
var (train, validation, test) = data.Split(0.15, 0.15, seed: 7);

var net = Net.Sequential().Linear(64).ReLU().Linear(3).Build();     // input size deferred
net.forward(zeros(1, 8));                                            // materializes 0.weight [64, 8]
using (var trainer = new Trainer(net, new TrainerOptions { Epochs = 30, BatchSize = 32, Seed = 7 }))
{
    var history = trainer.Fit(train, validation);
    Console.WriteLine($"trained {history.Epochs.Count} epochs: validation accuracy {history.Last!.ValidationAccuracy:P1}");
}
net.eval();
var correct = net.forward(test.Features).argmax(1).eq(test.Targets).sum().item<long>();
var accuracy = (double)correct / test.Count;
Console.WriteLine($"test accuracy {accuracy:P1} ({correct} of {test.Count})");

StateDicts.Save(net, Path.Combine(outDir, "mlp.safetensors"));      // keys 0.weight, 0.bias, 2.weight, 2.bias
var options = new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 8));
var model = OnnxExporter.Save(net, options, Path.Combine(outDir, "mlp.onnx"));
ModelRepository.Write(Path.Combine(outDir, "repository"), "mlp", 1, model);

var bundle = Path.Combine(outDir, "bundle");
ParityBundle.Write(bundle, net, options, [test.Features[..1], test.Features]);
var report = BundleVerifier.Verify(bundle, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
Console.WriteLine($"parity under ONNX Runtime: {(report.Passed ? "PASS" : "FAIL")} (max |Δ| {report.MaxAbsoluteError:0.00e+0}) on {report.Provider}");

// The task is easy: a trained network gets well above chance (33 %); the exact figure varies by CPU.
return report.Passed && accuracy >= 0.8 ? 0 : 1;
