using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// <c>net.to(torch.float64)</c> on every sequence layer: the converted layer computes with its
/// converted parameters (none left pointing at the disposed originals) and agrees with the float32
/// layer it came from within float32's precision (|Δ| ≤ 1e-5 + 1e-5·|ref|).
/// </summary>
[TestClass]
public sealed class SequenceLayerConversionTests
{
    public static IEnumerable<object[]> Layers() =>
    [
        ["LSTM", (Func<Block>)(() => new LSTM(5, 7, numLayers: 2, bidirectional: true))],
        ["GRU", (Func<Block>)(() => new GRU(5, 7))],
        ["RNN", (Func<Block>)(() => new RNN(5, 7, nonlinearity: "relu"))],
        ["MultiheadAttention", (Func<Block>)(() => new MultiheadAttention(8, 2, kdim: 5, vdim: 5))],
        ["TransformerEncoder", (Func<Block>)(() => new TransformerEncoder(new TransformerEncoderLayer(8, 2, 16), 2, new LayerNorm(8)))],
        ["TransformerDecoderLayer", (Func<Block>)(() => new TransformerDecoderLayer(8, 2, 16))],
        ["LearnedPositionalEmbedding", (Func<Block>)(() => new LearnedPositionalEmbedding(10, 8))],
    ];

    [TestMethod]
    [DynamicData(nameof(Layers))]
    public void SequenceLayer_ConvertedToFloat64_ComputesWithItsConvertedParameters(string name, Func<Block> make)
    {
        random.manual_seed(9);
        var layer = make();
        layer.eval();
        Tensor[] inputs = name switch
        {
            "MultiheadAttention" => [randn(4, 2, 8), randn(6, 2, 5), randn(6, 2, 5)],
            "TransformerDecoderLayer" => [randn(4, 2, 8), randn(6, 2, 8)],
            "LSTM" or "GRU" or "RNN" => [randn(4, 2, 5)],
            _ => [randn(4, 2, 8)],
        };
        using var noGrad = no_grad();
        var expected = layer.forward_all(inputs);

        layer.to(ScalarType.Float64);
        Assert.IsTrue(layer.parameters().All(p => p.dtype == ScalarType.Float64), $"{name}: every parameter converted");
        var actual = layer.forward_all([.. inputs.Select(t => t.to(ScalarType.Float64))]);

        Assert.AreEqual(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.AreEqual(ScalarType.Float64, actual[i].dtype, $"{name}: output {i} is float64");
            TensorAssert.Close(expected[i], actual[i].to(ScalarType.Float32), $"{name}: output {i} after the conversion");
        }
    }
}
