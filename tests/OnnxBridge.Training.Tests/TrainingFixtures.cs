using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Values;
using OnnxBridge.Training.Data;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Tests;

/// <summary>A small synthetic 3-class problem and a network with batch norm and dropout, so every mode switch matters.</summary>
internal static class TrainingFixtures
{
    public static InputSpec Input { get; } = InputSpec.Float32("x", Dim.Named("batch"), 8);

    /// <summary>Rows of 8 features whose class is the argmax of three fixed linear scores.</summary>
    public static TensorDataset Data(int rows, int seed)
    {
        var generator = new TorchSharp.torch.Generator((ulong)seed);
        var x = randn([rows, 8], generator: generator);
        var w = randn([8, 3], generator: generator);
        return new TensorDataset(x, x.matmul(w).argmax(1));
    }

    /// <summary>Linear → BatchNorm1d → ReLU → Dropout → Linear, initialized from <paramref name="seed"/>.</summary>
    public static Sequential Network(int seed)
    {
        random.manual_seed(seed);
        return Net.Sequential().Linear(16).BatchNorm1d(16).ReLU().Dropout(0.3).Linear(3).Input(Input).Build();
    }

    /// <summary>Every parameter and buffer, flattened, for bit-exact comparisons.</summary>
    public static float[] Weights(Block net) =>
        [.. net.state_dict().Where(kv => kv.Value.dtype == ScalarType.Float32).SelectMany(kv => kv.Value.data<float>().ToArray())];
}
