using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.History;
using OnnxBridge.Training.Plots;
using OnnxBridge.Training.Progress;

namespace OnnxBridge.Training;

/// <summary>What a <see cref="TrainingJob"/> produced and measured.</summary>
public sealed record TrainingJobResult(
    TrainingHistory History,
    double TestLoss,
    double? TestAccuracy,
    ParityReport Parity,
    long PredictionsCompared,
    long PredictionMismatches,
    string Folder,
    string ModelPath,
    string BundlePath,
    string WeightsPath,
    string CheckpointDirectory,
    string MetricsCsvPath,
    string MetricsJsonPath,
    IReadOnlyList<string> PlotPaths)
{
    /// <summary>Whether ONNX Runtime matched TorchSharp within tolerance and predicted the same class for every test row.</summary>
    public bool ParityPassed => Parity.Passed && PredictionMismatches == 0;
}

/// <summary>
/// The whole journey for one network: train with checkpoints, save the metrics (CSV, JSON) and the
/// curves (PNG, SVG), save the weights, evaluate on the test split, export to ONNX with a parity
/// bundle over the entire test split, and check it under ONNX Runtime — outputs within tolerance and
/// identical predicted classes. Layout of <c>folder</c>: <c>checkpoints/</c>, <c>metrics.csv</c>,
/// <c>metrics.json</c>, <c>loss.png|svg</c>, <c>accuracy.png|svg</c>, <c>model.safetensors</c>,
/// <c>bundle/</c> (<c>model.onnx</c> + test data), <c>model.onnx</c>.
/// </summary>
public static class TrainingJob
{
    /// <summary>Runs the job; resumes from the newest checkpoint in <c>folder/checkpoints</c> when <paramref name="resume"/> is set.</summary>
    public static TrainingJobResult Run(
        string name, Block model, InputSpec input, TensorDataset train, TensorDataset validation, TensorDataset test,
        TrainerOptions options, string folder, ITrainingObserver? observer = null,
        ExecutionProviderPolicy provider = ExecutionProviderPolicy.Cpu, Tolerance? tolerance = null, bool resume = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(test);
        Directory.CreateDirectory(folder);
        var checkpoints = Path.Combine(folder, "checkpoints");
        options = options with { CheckpointDirectory = checkpoints };

        using var trainer = new Trainer(model, options, observer);
        if (resume && Trainer.LatestCheckpoint(checkpoints) is { } latest)
        {
            trainer.Resume(latest);
            observer?.OnMessage($"resumed from {latest}");
        }
        var history = trainer.Fit(train, validation);

        var metricsCsv = Path.Combine(folder, "metrics.csv");
        var metricsJson = Path.Combine(folder, "metrics.json");
        history.SaveCsv(metricsCsv);
        history.SaveJson(metricsJson);
        var plots = TrainingPlots.Save(history, folder, name);
        var weights = Path.Combine(folder, "model.safetensors");
        StateDicts.Save(model, weights);
        var (testLoss, testAccuracy) = trainer.Evaluate(test);

        // The bundle holds the whole test split as one data set: TorchSharp's outputs are the reference.
        var bundle = Path.Combine(folder, "bundle");
        var exportOptions = new ExportOptions(input) { GraphName = name };
        ParityBundle.Write(bundle, model, exportOptions, [test.Features]);
        var modelPath = Path.Combine(folder, "model.onnx");
        AtomicFile.WriteAllBytes(modelPath, File.ReadAllBytes(Path.Combine(bundle, OnnxTestCase.ModelFileName)));
        var parity = BundleVerifier.Verify(bundle, provider, tolerance);
        var (compared, mismatches) = options.Loss.HasAccuracy ? ComparePredictions(bundle, provider) : (0, 0);

        return new TrainingJobResult(history, testLoss, testAccuracy, parity, compared, mismatches, folder, modelPath, bundle, weights,
            checkpoints, metricsCsv, metricsJson, plots);
    }

    /// <summary>
    /// Per row, the predicted class from ONNX Runtime's output vs TorchSharp's (the bundle's
    /// reference): the arg-max over [rows, classes], or the sign of the logit for one output column.
    /// </summary>
    private static (long Compared, long Mismatches) ComparePredictions(string bundle, ExecutionProviderPolicy provider)
    {
        var testCase = OnnxTestCase.Read(bundle);
        var data = testCase.DataSets[0];
        using var session = OnnxModelSession.Open(Path.Combine(bundle, OnnxTestCase.ModelFileName), OnnxRuntimeOptions.On(provider));
        var actual = session.Run(data.Inputs)[0].Tensor;
        var expected = data.Outputs[0].Tensor;
        var rows = (int)expected.Shape[0];
        var classes = expected.Shape.Count == 2 ? (int)expected.Shape[1] : 1;
        var (e, a) = (TensorComparer.ToDoubles(expected), TensorComparer.ToDoubles(actual));
        long mismatches = 0;
        for (int r = 0; r < rows; r++)
        {
            var same = classes == 1 ? e[r] > 0 == a[r] > 0 : ArgMax(e, r * classes, classes) == ArgMax(a, r * classes, classes);
            if (!same) mismatches++;
        }
        return (rows, mismatches);
    }

    private static int ArgMax(double[] values, int offset, int count)
    {
        var best = 0;
        for (int i = 1; i < count; i++)
        {
            if (values[offset + i] > values[offset + best]) best = i;
        }
        return best;
    }
}
