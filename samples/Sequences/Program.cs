// Bracket strings end to end: an Embedding + 2-layer LSTM classifier trained in TorchSharp on strings
// of lengths 8-20, exported once with a dynamic sequence length, checked under ONNX Runtime on every
// test string (length 24 included, which neither training nor the export saw), and written into a
// model repository the host serves. Usage: Sequences [ARTIFACTS_DIR] [lstm|transformer]
using System.Globalization;
using OnnxBridge.Samples.Sequences;

var artifacts = args.Length > 0 ? args[0] : Path.Combine("artifacts", "sequences");
var model = args.Length > 1 ? args[1] : "lstm";
Console.WriteLine($"== brackets ({model}): balanced or not, lengths {string.Join(", ", SequenceExperiment.TrainedLengths)} (1,000 strings each), seed {SequenceExperiment.Seed}");
var result = SequenceExperiment.Run(artifacts, Console.Out, model: model);
var c = CultureInfo.InvariantCulture;
Console.WriteLine(string.Create(c, $"   trained in {result.TrainingTime.TotalSeconds:F1} s"));
foreach (var (length, accuracy) in result.Accuracy)
    Console.WriteLine(string.Create(c, $"   test accuracy at length {length,2}: {accuracy:P2}{(SequenceExperiment.TrainedLengths.Contains(length) ? "" : " (a length never trained on)")}"));
Console.WriteLine(string.Create(c, $"   parity (ONNX Runtime vs TorchSharp, {result.Parity.Tolerance}, one data set per length): max |Δ| {result.Parity.MaxAbsoluteError:G3}, {(result.Parity.Passed ? "PASS" : "FAIL")}"));
Console.WriteLine($"   predicted classes identical: {result.PredictionsCompared - result.PredictionMismatches}/{result.PredictionsCompared}");
Console.WriteLine($"   model: {Path.GetFullPath(result.ModelPath)} (tokens: int64[batch, seq])");
Console.WriteLine($"serve it: onnxbridge serve --repository {Path.GetFullPath(result.Repository)}   (model brackets)");
return result.Parity.Passed && result.PredictionMismatches == 0 ? 0 : 1;
