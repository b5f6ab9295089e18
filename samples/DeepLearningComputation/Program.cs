// d2l.ai "Deep Learning Computation" (Builders' Guide) in C#, section by section. Each network is
// also exported to ONNX, written as a parity bundle and re-run under ONNX Runtime.
//   dotnet run --project samples/DeepLearningComputation [ARTIFACTS_DIR]
using OnnxBridge.Samples.Chapter;
using OnnxBridge.Samples.Chapter.Sections;
using static TorchSharp.torch;

var artifacts = args.Length > 0 ? args[0] : "artifacts";
var output = Console.Out;
var exports = new ChapterExports(Path.Combine(artifacts, "chapter"), output);
random.manual_seed(0); // the chapter's numbers vary run to run; ours are reproducible
set_printoptions(TorchSharp.TensorStringStyle.Numpy, "0.####", linewidth: 120, newLine: null, maxRows: 20, maxColumns: 20);

LayersAndBlocks.Run(output, exports);
ParameterManagement.Run(output, exports);
Initialization.Run(output, exports);
DeferredInitialization.Run(output, exports);
CustomLayers.Run(output, exports);
FileIO.Run(output, Path.Combine(artifacts, "chapter", "files"));
GpuDevices.Run(output, exports);

output.WriteLine();
output.WriteLine($"{exports.Reports.Count(r => r.Report.Passed)} of {exports.Reports.Count} exported networks match TorchSharp under ONNX Runtime (|Δ| ≤ 1e-5 + 1e-5·|ref|).");
output.WriteLine($"Re-check any of them without TorchSharp: onnxbridge verify {exports.Root}/<name>");
return exports.AllPassed ? 0 : 1;
