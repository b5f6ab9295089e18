using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Digits;

namespace OnnxBridge.Tests.PluginBlocks;

/// <summary>
/// A 1-D convolutional text classifier over token ids [batch, length]: Embedding → [batch, dim,
/// length] → Conv1d → ReLU → max over time (AdaptiveMaxPool1d(1)) → Linear.
/// </summary>
public sealed class TextCnn : Block
{
    private readonly Embedding _embedding;
    private readonly Conv1d _conv;
    private readonly AdaptiveMaxPool1d _pool;
    private readonly Linear _classifier;

    public TextCnn() : base(nameof(TextCnn))
    {
        _embedding = Register("embedding", new Embedding(50, 16, paddingIdx: 0));
        _conv = Register("conv", new Conv1d(16, 32, [3], padding: [1]));
        _pool = Register("pool", new AdaptiveMaxPool1d([1]));
        _classifier = Register("classifier", new Linear(32, 4));
    }

    protected override Value Forward(Value input) =>
        _classifier.Call(_pool.Call(_conv.Call(_embedding.Call(input).Transpose(1, 2)).Relu()).Flatten(1));
}

/// <summary>The networks a newcomer writes on day one with the everyday vocabulary, with their inputs.</summary>
public static class EverydayNetworks
{
    /// <summary>A small ResNet for 8×8 one-channel images: stem, two basic blocks (the second strided), global average pooling, Linear.</summary>
    public static Sequential SmallResNet() => Net.Sequential()
        .Add(new Conv2d(1, 8, [3], padding: [1], bias: false)).BatchNorm2d(8).ReLU()
        .Add(new BasicBlock(8, 8)).Add(new BasicBlock(8, 16, stride: 2))
        .AdaptiveAvgPool2d(1).Flatten().Dropout(0.1).Linear(16, 10)
        .Build();

    /// <summary>A GELU/LayerNorm MLP.</summary>
    public static Sequential GeluLayerNormMlp() => Net.Sequential().Linear(20, 64).LayerNorm(64).GELU().Dropout(0.1).Linear(64, 10).Build();

    public static InputSpec ImageInput { get; } = new("image", Onnx.Proto.TensorProto.Types.DataType.Float, [Dim.Named("batch"), 1, 8, 8]);

    public static InputSpec TokenInput { get; } = new("tokens", Onnx.Proto.TensorProto.Types.DataType.Int64, [Dim.Named("batch"), 12]);

    public static InputSpec FeatureInput { get; } = InputSpec.Float32("features", Dim.Named("batch"), 20);

    public static InputSpec HeadsInput { get; } = InputSpec.Float32("x", Dim.Named("batch"), 4);
}
