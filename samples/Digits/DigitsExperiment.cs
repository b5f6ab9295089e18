using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Progress;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Digits;

/// <summary>What one digits network produced: the training job's result and where it is served from.</summary>
/// <param name="Repository">A model repository (Triton's layout) holding the exported model as <c>digits_NETWORK</c> version 1: <c>onnxbridge serve --repository</c> serves it.</param>
/// <param name="NoisyInputMse">For the autoencoder: the mean squared error of the noisy test input itself against the clean pixels (what doing nothing scores).</param>
public sealed record DigitsResult(TrainingJobResult Job, string Repository, double? NoisyInputMse);

/// <summary>
/// Loads the digits, splits them 70/10/20 (train/validation/test) with a fixed seed, and runs
/// <see cref="TrainingJob"/> for a network: train, save, export, check under ONNX Runtime; then
/// writes the model into a repository the host serves.
/// </summary>
public static class DigitsExperiment
{
    /// <summary>The networks, by the name the program takes.</summary>
    public static IReadOnlyList<string> Networks { get; } = ["mlp", "cnn", "resnet", "autoencoder", "imported"];

    /// <summary>The data file beside the program.</summary>
    public static string DataPath => Path.Combine(AppContext.BaseDirectory, "data", "digits.csv.gz");

    /// <summary>The CNN PyTorch defined and exported (samples/data/make_pytorch_digits_cnn.py) that the "imported" network fine-tunes.</summary>
    public static string PyTorchModelPath => Path.Combine(AppContext.BaseDirectory, "data", "pytorch-digits-cnn.onnx");

    /// <summary>The seed for the split, the noise, the initialization and the training.</summary>
    public const int Seed = 2024;

    /// <summary>The standard deviation of the Gaussian noise the autoencoder learns to remove, in pixel units (pixels are 0..16).</summary>
    public const double NoiseStd = 4;

    /// <summary>Runs one network (see <see cref="Networks"/>) and returns what the job measured.</summary>
    public static DigitsResult Run(string network, string artifacts, ITrainingObserver? observer = null, int? epochs = null)
    {
        if (!Networks.Contains(network)) throw new ArgumentException($"unknown network '{network}': use {string.Join(", ", Networks)}", nameof(network));
        using var all = CsvDataset.Load(DataPath);
        var (train, validation, test) = all.Split(validationFraction: 0.1, testFraction: 0.2, Seed);
        using (train)
        using (validation)
        using (test)
        {
            TrainingJobResult job;
            double? noisyInputMse = null;
            if (network == "autoencoder")
            {
                random.manual_seed(Seed + 1); // the noise
                using var noisyTrain = Noisy(train);
                using var noisyValidation = Noisy(validation);
                using var noisyTest = Noisy(test);
                noisyInputMse = nn.functional.mse_loss(noisyTest.Features / 16, noisyTest.Targets).item<float>();
                random.manual_seed(Seed); // the initial weights
                var (net, options) = DigitsNetworks.Autoencoder(Seed);
                job = Job(network, net, options, noisyTrain, noisyValidation, noisyTest, artifacts, observer, epochs);
            }
            else
            {
                random.manual_seed(Seed); // the initial weights
                var (net, options) = network switch
                {
                    "mlp" => DigitsNetworks.Mlp(train, Seed),
                    "cnn" => DigitsNetworks.Cnn(train, Seed),
                    "imported" => DigitsNetworks.Imported(PyTorchModelPath, Seed),
                    _ => DigitsNetworks.ResNet(train, Seed),
                };
                job = Job(network, net, options, train, validation, test, artifacts, observer, epochs);
            }
            var repository = Path.Combine(artifacts, "repository");
            ModelRepository.Write(repository, $"digits_{network}", 1, OnnxFiles.ReadModel(job.ModelPath));
            return new DigitsResult(job, repository, noisyInputMse);
        }
    }

    private static TrainingJobResult Job(string network, Core.Blocks.Block net, TrainerOptions options, TensorDataset train, TensorDataset validation, TensorDataset test,
                                         string artifacts, ITrainingObserver? observer, int? epochs)
    {
        if (epochs is { } e) options = options with { Epochs = e };
        return TrainingJob.Run($"digits-{network}", net, DigitsNetworks.Input, train, validation, test, options, Path.Combine(artifacts, network), observer);
    }

    /// <summary>The split's images with Gaussian noise added (clamped to 0..16) as features, the clean images scaled to 0..1 as targets.</summary>
    private static TensorDataset Noisy(TensorDataset split)
    {
        var clean = split.Features;
        var noisy = (clean + randn_like(clean) * NoiseStd).clamp(0, 16);
        return new TensorDataset(noisy, clean / 16);
    }
}
