using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Cli.Commands;

/// <summary>Networks the benchmarks share, built with OnnxBridge.</summary>
internal static class BenchNetworks
{
    /// <summary>The MLP 784-1024-1024-10 every benchmark measures (GUIDE §3's anchor figures are for it).</summary>
    public static Sequential Mlp784() =>
        Net.Sequential().Input(Mlp784Input).Linear(1024).ReLU().Linear(1024).ReLU().Linear(10).Build();

    /// <summary>Its input: float32 [batch, 784].</summary>
    public static InputSpec Mlp784Input { get; } = InputSpec.Float32("input", Dim.Named("batch"), 784);

    /// <summary>Floating-point operations of one forward of <see cref="Mlp784"/> on <paramref name="batch"/> rows (2 per multiply-add).</summary>
    public static double Mlp784Flops(long batch) => 2.0 * batch * (784 * 1024 + 1024 * 1024 + 1024 * 10);

    /// <summary>Bytes of <see cref="Mlp784"/>'s float32 weights and biases: what a forward at batch 1 reads once.</summary>
    public const long Mlp784WeightBytes = (784 * 1024 + 1024 + 1024 * 1024 + 1024 + 1024 * 10 + 10) * sizeof(float);

    /// <summary>
    /// A small ResNet over flat 64-pixel rows (8×8 images): a 3×3 stem with BatchNorm, two basic
    /// blocks of 16 channels, global average pooling, Linear to 10 classes.
    /// </summary>
    public static Sequential ResNet() =>
        Net.Sequential().Unflatten(1, 8, 8).Add(new Core.Layers.Conv2d(1, 16, [3], padding: [1], bias: false)).BatchNorm2d(16).ReLU()
            .Add(new ResidualBlock(16)).Add(new ResidualBlock(16)).AdaptiveAvgPool2d(1).Flatten().Linear(16, 10).Build();

    /// <summary>Its input: float32 [batch, 64], a flat 8×8 image per row.</summary>
    public static InputSpec ResNetInput { get; } = InputSpec.Float32("input", Dim.Named("batch"), 64);

    /// <summary>ResNet's basic block (same channels, stride 1) as an OnnxBridge block.</summary>
    private sealed class ResidualBlock : Block
    {
        private readonly Core.Layers.Conv2d _conv1, _conv2;
        private readonly Core.Layers.BatchNorm _bn1, _bn2;

        public ResidualBlock(long channels) : base("BasicBlock")
        {
            _conv1 = Register("conv1", new Core.Layers.Conv2d(channels, channels, [3], padding: [1], bias: false));
            _bn1 = Register("bn1", new Core.Layers.BatchNorm(channels));
            _conv2 = Register("conv2", new Core.Layers.Conv2d(channels, channels, [3], padding: [1], bias: false));
            _bn2 = Register("bn2", new Core.Layers.BatchNorm(channels));
        }

        protected override Value Forward(Value input) => (_bn2.Call(_conv2.Call(_bn1.Call(_conv1.Call(input)).Relu())) + input).Relu();
    }
}
