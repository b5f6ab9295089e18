using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Progress;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Digits;

/// <summary>
/// Loads the digits, splits them 70/10/20 (train/validation/test) with a fixed seed, and runs
/// <see cref="TrainingJob"/> for a network: train, save, export, check under ONNX Runtime.
/// </summary>
public static class DigitsExperiment
{
    /// <summary>The data file beside the program.</summary>
    public static string DataPath => Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz");

    /// <summary>The seed for the split, the initialization and the training.</summary>
    public const int Seed = 2024;

    /// <summary>Runs one network ("mlp" or "cnn") and returns what the job measured.</summary>
    public static TrainingJobResult Run(string network, string artifacts, ITrainingObserver? observer = null, int? epochs = null)
    {
        using var all = CsvDataset.Load(DataPath);
        var (train, validation, test) = all.Split(validationFraction: 0.1, testFraction: 0.2, Seed);
        using (train)
        using (validation)
        using (test)
        {
            random.manual_seed(Seed); // the initial weights
            var (net, options) = network switch
            {
                "mlp" => DigitsNetworks.Mlp(train, Seed),
                "cnn" => DigitsNetworks.Cnn(train, Seed),
                _ => throw new ArgumentException($"unknown network '{network}': use mlp or cnn", nameof(network)),
            };
            if (epochs is { } e) options = options with { Epochs = e };
            return TrainingJob.Run($"digits-{network}", net, DigitsNetworks.Input, train, validation, test, options, Path.Combine(artifacts, network), observer);
        }
    }
}
