using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Training;
using OnnxBridge.Training.Data;
using OnnxBridge.Training.Optimization;

namespace OnnxBridge.Samples.Digits;

/// <summary>The digit networks — three classifiers and a denoising autoencoder — and the recipes that train them.</summary>
public static class DigitsNetworks
{
    /// <summary>64 raw pixel values (0..16) per image; the networks standardize them themselves.</summary>
    public static InputSpec Input { get; } = InputSpec.Float32("pixels", Dim.Named("batch"), 64);

    /// <summary>Normalization → 128 → ReLU → Dropout → 10, trained with AdamW and a cosine schedule.</summary>
    public static (Sequential Net, TrainerOptions Options) Mlp(TensorDataset train, int seed) => (
        Net.Sequential()
            .Add(Standardizer(train))
            .Linear(128).ReLU().Dropout(0.2)
            .Linear(10)
            .Input(Input)
            .Build(),
        new TrainerOptions
        {
            Epochs = 30,
            BatchSize = 32,
            Optimizer = OptimizerSpec.AdamW(2e-3, weightDecay: 1e-4),
            Schedule = LearningRateSchedule.Cosine(30),
            Seed = seed,
            CheckpointEvery = 10,
        });

    /// <summary>
    /// A CNN not made in C#: PyTorch defined, initialized and exported it (its input is the same 64
    /// raw pixels); <see cref="OnnxImporter"/> turns it into a trainable block, fine-tuned here with
    /// AdamW. Its keys are PyTorch's (<c>features.0.weight</c>, ...), its BatchNorm uses the running
    /// statistics it was exported with.
    /// </summary>
    public static (Block Net, TrainerOptions Options) Imported(string onnxPath, int seed) => (
        OnnxImporter.Import(onnxPath),
        new TrainerOptions
        {
            Epochs = 15,
            BatchSize = 32,
            Optimizer = OptimizerSpec.AdamW(3e-3, weightDecay: 1e-4),
            Schedule = LearningRateSchedule.Cosine(15),
            Seed = seed,
            CheckpointEvery = 5,
        });

    /// <summary>Normalization → 8x8 image → two conv/pool stages with batch norm → Dropout → 10, trained with SGD and momentum.</summary>
    public static (Sequential Net, TrainerOptions Options) Cnn(TensorDataset train, int seed) => (
        Net.Sequential()
            .Add(Standardizer(train))
            .Unflatten(1, 8, 8)
            .LazyConv2d(16, 3, padding: 1).BatchNorm2d(16).ReLU().MaxPool2d(2)
            .LazyConv2d(32, 3, padding: 1).ReLU().MaxPool2d(2)
            .Flatten().Dropout(0.25)
            .Linear(10)
            .Input(Input)
            .Build(),
        new TrainerOptions
        {
            Epochs = 20,
            BatchSize = 32,
            Optimizer = OptimizerSpec.Sgd(0.05, momentum: 0.9, weightDecay: 1e-4),
            Schedule = LearningRateSchedule.Step(8, 0.3),
            GradientClipNorm = 5,
            Seed = seed,
            CheckpointEvery = 5,
        });

    /// <summary>
    /// A small ResNet: a conv/BatchNorm/ReLU stem, two <see cref="BasicBlock"/>s (the second strided,
    /// with a projection shortcut), global average pooling, Dropout → 10; AdamW with a cosine schedule.
    /// </summary>
    public static (Sequential Net, TrainerOptions Options) ResNet(TensorDataset train, int seed) => (
        Net.Sequential()
            .Add(Standardizer(train))
            .Unflatten(1, 8, 8)
            .Add(new Conv2d(1, 16, [3], padding: [1], bias: false)).BatchNorm2d(16).ReLU()
            .Add(new BasicBlock(16, 16))
            .Add(new BasicBlock(16, 32, stride: 2))
            .AdaptiveAvgPool2d(1).Flatten().Dropout(0.2)
            .Linear(32, 10)
            .Input(Input)
            .Build(),
        new TrainerOptions
        {
            Epochs = 20,
            BatchSize = 32,
            Optimizer = OptimizerSpec.AdamW(3e-3, weightDecay: 1e-4),
            Schedule = LearningRateSchedule.Cosine(20),
            GradientClipNorm = 5,
            Seed = seed,
            CheckpointEvery = 5,
        });

    /// <summary>The <see cref="DenoisingUNet"/>, trained on mean squared error against the clean pixels with Adam.</summary>
    public static (DenoisingUNet Net, TrainerOptions Options) Autoencoder(int seed) => (
        new DenoisingUNet(),
        new TrainerOptions
        {
            Epochs = 25,
            BatchSize = 32,
            Optimizer = OptimizerSpec.Adam(3e-3),
            Schedule = LearningRateSchedule.Cosine(25),
            Loss = LossFunction.MeanSquaredError,
            Seed = seed,
            CheckpointEvery = 5,
        });

    /// <summary>Feature scaling fitted on the training split only, as the network's first layer.</summary>
    private static Normalization Standardizer(TensorDataset train) => new Normalization(64).Adapt(train.Features);
}
