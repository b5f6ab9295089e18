// The 8x8 handwritten digits end to end: for an MLP, a small CNN, a small ResNet and a denoising
// U-Net autoencoder, train in TorchSharp, save the checkpoints, metrics and curves, export to ONNX,
// check ONNX Runtime against TorchSharp on the whole test split, and write a model repository the
// host serves; and a CNN PyTorch made, imported from ONNX and fine-tuned. Usage: Digits [ARTIFACTS_DIR] [mlp|cnn|resnet|autoencoder|imported|all] (default: all)
using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Samples.Digits;
using OnnxBridge.Training.Progress;

var artifacts = args.Length > 0 ? args[0] : Path.Combine("artifacts", "digits");
var networks = args.Length < 2 || args[1] == "all" ? [.. DigitsExperiment.Networks] : new[] { args[1] };
var failed = false;
string? repository = null;
foreach (var network in networks)
{
    Console.WriteLine($"== {network}: digits 8x8, 1,797 images, split 70/10/20 with seed {DigitsExperiment.Seed}");
    var clock = Stopwatch.StartNew();
    var result = DigitsExperiment.Run(network, artifacts, new ConsoleProgress(Console.Out));
    var r = result.Job;
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   trained {r.History.Epochs.Count} epochs in {clock.Elapsed.TotalSeconds:F1} s (including export and checks)"));
    if (r.TestAccuracy is { } accuracy)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   test accuracy {accuracy:P2} on {r.PredictionsCompared} images, test loss {r.TestLoss:F4}"));
    if (result.NoisyInputMse is { } noisy)
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"   test MSE against the clean pixels {r.TestLoss:F4}; the noisy input itself scores {noisy:F4} ({r.TestLoss / noisy:P0} of it)"));
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"   parity (ONNX Runtime {r.Parity.Provider} vs TorchSharp, {r.Parity.Tolerance}): max |Δ| {r.Parity.MaxAbsoluteError:G3}, max rel {r.Parity.MaxRelativeError:G3}, {(r.Parity.Passed ? "PASS" : "FAIL")}"));
    if (r.PredictionsCompared > 0) Console.WriteLine($"   predicted classes identical: {r.PredictionsCompared - r.PredictionMismatches}/{r.PredictionsCompared}");
    Console.WriteLine($"   model:       {Path.GetFullPath(r.ModelPath)}");
    Console.WriteLine($"   bundle:      {Path.GetFullPath(r.BundlePath)}");
    Console.WriteLine($"   weights:     {Path.GetFullPath(r.WeightsPath)}");
    Console.WriteLine($"   checkpoints: {Path.GetFullPath(r.CheckpointDirectory)}");
    Console.WriteLine($"   metrics:     {Path.GetFullPath(r.MetricsCsvPath)}, {Path.GetFullPath(r.MetricsJsonPath)}");
    foreach (var plot in r.PlotPaths) Console.WriteLine($"   plot:        {Path.GetFullPath(plot)}");
    repository = result.Repository;
    failed |= !r.ParityPassed;
}
Console.WriteLine($"serve them: onnxbridge serve --repository {Path.GetFullPath(repository!)}   (models digits_{string.Join(", digits_", networks)})");
return failed ? 1 : 0;
