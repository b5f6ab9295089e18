// The 8x8 handwritten digits end to end: for an MLP and a small CNN, train in TorchSharp, save the
// checkpoints, metrics and curves, export to ONNX, and check ONNX Runtime against TorchSharp on the
// whole test split. Usage: Digits [ARTIFACTS_DIR] [mlp|cnn|both]
using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Samples.Digits;
using OnnxBridge.Training.Progress;

var artifacts = args.Length > 0 ? args[0] : Path.Combine("artifacts", "digits");
var networks = args.Length > 1 && args[1] != "both" ? [args[1]] : new[] { "mlp", "cnn" };
var failed = false;
foreach (var network in networks)
{
    Console.WriteLine($"== {network}: digits 8x8, 1,797 images, split 70/10/20 with seed {DigitsExperiment.Seed}");
    var clock = Stopwatch.StartNew();
    var result = DigitsExperiment.Run(network, artifacts, new ConsoleProgress(Console.Out));
    var r = result;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   trained {r.History.Epochs.Count} epochs in {clock.Elapsed.TotalSeconds:F1} s (including export and checks)"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   test accuracy {r.TestAccuracy:P2} on {r.PredictionsCompared} images, test loss {r.TestLoss:F4}"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"   parity (ONNX Runtime {r.Parity.Provider} vs TorchSharp, {r.Parity.Tolerance}): max |Δ| {r.Parity.MaxAbsoluteError:G3}, max rel {r.Parity.MaxRelativeError:G3}, {(r.Parity.Passed ? "PASS" : "FAIL")}"));
    Console.WriteLine($"   predicted classes identical: {r.PredictionsCompared - r.PredictionMismatches}/{r.PredictionsCompared}");
    Console.WriteLine($"   model:       {Path.GetFullPath(r.ModelPath)}");
    Console.WriteLine($"   bundle:      {Path.GetFullPath(r.BundlePath)}");
    Console.WriteLine($"   weights:     {Path.GetFullPath(r.WeightsPath)}");
    Console.WriteLine($"   checkpoints: {Path.GetFullPath(r.CheckpointDirectory)}");
    Console.WriteLine($"   metrics:     {Path.GetFullPath(r.MetricsCsvPath)}, {Path.GetFullPath(r.MetricsJsonPath)}");
    foreach (var plot in r.PlotPaths) Console.WriteLine($"   plot:        {Path.GetFullPath(plot)}");
    failed |= !r.ParityPassed;
}
return failed ? 1 : 0;
