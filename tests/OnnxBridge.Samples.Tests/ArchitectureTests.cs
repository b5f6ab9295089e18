using Google.Protobuf;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Samples.Tests;

/// <summary>Architecture files: every chapter network round-trips, rebuilt networks export to the same bytes, bad files fail clearly.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ArchitectureTests
{
    private static readonly System.Reflection.Assembly[] Plugins = [typeof(Mlp).Assembly];

    private static IEnumerable<object[]> ChapterNetworksWithInputs()
    {
        yield return ["sequential", (Func<Block>)ChapterNetworks.FirstNet, 20L];
        yield return ["mlp", (Func<Block>)(() => new Mlp()), 20L];
        yield return ["my-sequential", (Func<Block>)(() => new MySequential(new Linear(256), new ReLU(), new Linear(10))), 20L];
        yield return ["fixed-hidden-mlp", (Func<Block>)(() => new FixedHiddenMlp()), 20L];
        yield return ["chimera", (Func<Block>)ChapterNetworks.Chimera, 20L];
        yield return ["rgnet", (Func<Block>)ChapterNetworks.RgNet, 4L];
        yield return ["tied", (Func<Block>)(() => ChapterNetworks.TiedNet(out _)), 4L];
        yield return ["centered", (Func<Block>)(() => new Sequential(new Linear(128), new CenteredLayer())), 8L];
        yield return ["my-linear", (Func<Block>)(() => new Sequential(new MyLinear(64, 8), new MyLinear(8, 1))), 64L];
    }

    [TestMethod]
    [DynamicData(nameof(ChapterNetworksWithInputs))]
    public void ChapterNetwork_RoundTripsAndExportsToTheSameBytes(string name, Func<Block> make, long features)
    {
        using var temp = new TempFolder();
        var original = make();
        var json = ArchitectureJson.ToJson(original);
        var rebuilt = ArchitectureJson.FromJson(json, Plugins);

        Assert.AreEqual(json, ArchitectureJson.ToJson(rebuilt), $"{name}: describing the rebuilt network gives another file");
        Assert.AreEqual(original.ToString(), rebuilt.ToString(), name);

        var options = new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), features));
        var exported = OnnxExporter.Save(original, options, temp.File("original.onnx")).ToByteArray();
        StateDicts.Save(original, temp.File("weights.safetensors"));
        StateDicts.Load(rebuilt, temp.File("weights.safetensors"));
        // rand_weight is a constant outside the state dict, as in PyTorch: the exported model carries it.
        if (name is "fixed-hidden-mlp" or "chimera") StateDicts.LoadFromOnnx(rebuilt, temp.File("original.onnx"));
        CollectionAssert.AreEqual(original.state_dict().Keys.ToArray(), rebuilt.state_dict().Keys.ToArray(), name);
        CollectionAssert.AreEqual(exported, OnnxExporter.Export(rebuilt, options).ToByteArray(), $"{name}: the rebuilt network exports different bytes");
    }

    [TestMethod]
    [DataRow("mlp.json", "Sequential(\n  (0): LazyLinear(in_features=0, out_features=256, bias=True)")]
    [DataRow("tied.json", "  (4): Linear(in_features=8, out_features=8, bias=True)")]
    [DataRow("chimera.json", "  (2): FixedHiddenMLP(\n    (linear): LazyLinear(in_features=0, out_features=20, bias=True)")]
    public void ExampleFiles_InSamples_Load(string file, string expectedStructure)
    {
        var block = ArchitectureJson.FromJson(File.ReadAllText(RepoFiles.Path("samples", "architectures", file)), Plugins);

        StringAssert.Contains(block.ToString(), expectedStructure);
    }

    [TestMethod]
    public void TiedNetwork_IsWrittenWithAReference_AndRebuiltTied()
    {
        var json = ArchitectureJson.ToJson(ChapterNetworks.TiedNet(out _));
        var rebuilt = (Sequential)ArchitectureJson.FromJson(json);

        StringAssert.Contains(json, "\"ref\": \"2\"");
        Assert.AreSame(rebuilt[2], rebuilt[4]);
    }

    [TestMethod]
    public void EveryBuiltInLayer_RoundTripsThroughAnArchitectureFile_WithItsArguments()
    {
        var net = new Sequential(
            new Embedding(10, 6, paddingIdx: 2), new LayerNorm([6], eps: 1e-3), new GELU("tanh"), new Linear(6, 8), new LeakyReLU(0.2), new PReLU(),
            new ELU(0.5), new SELU(), new CELU(2), new SiLU(), new Mish(), new Hardtanh(-2, 3), new ReLU6(), new Hardsigmoid(), new Hardswish(),
            new Softplus(2, 10), new Softsign(), new Sigmoid(), new Tanh(), new Identity(), new GLU(-1), new Softmin(-1), new LogSoftmax(-1), new Softmax(1),
            new Unflatten(4, 1, 1), new GroupNorm(2, 4, affine: false), new InstanceNorm(4, 4, affine: true), new LocalResponseNorm(3, 1e-3, 0.6, 2));

        var rebuilt = ArchitectureJson.FromJson(ArchitectureJson.ToJson(net));

        Assert.AreEqual(net.ToString(), rebuilt.ToString());
        CollectionAssert.AreEqual(net.state_dict().Keys.ToList(), rebuilt.state_dict().Keys.ToList());
        StringAssert.Contains(net.ToString(), "(1): LayerNorm((6,), eps=0.001, elementwise_affine=True)");
        StringAssert.Contains(net.ToString(), "(0): Embedding(10, 6, padding_idx=2)");
    }

    [TestMethod]
    public void SequenceLayers_RoundTripThroughAnArchitectureFile_AndAreChargedExactly()
    {
        Block[] layers =
        [
            new LSTM(5, 7, 2, batchFirst: true, dropout: 0.2, bidirectional: true), new GRU(5, 7, bias: false), new RNN(5, 7, 3, nonlinearity: "relu"),
            new LSTMCell(5, 7), new GRUCell(5, 7, bias: false), new RNNCell(5, 7, nonlinearity: "relu"),
            new MultiheadAttention(8, 2, 0.1, kdim: 5, vdim: 3, batchFirst: true), new MultiheadAttention(8, 4, bias: false),
            new TransformerEncoderLayer(8, 2, 16, 0.2, "gelu", 1e-6, batchFirst: true, normFirst: true), new TransformerDecoderLayer(8, 2, 32),
            new SinusoidalPositionalEncoding(8, 0.2, batchFirst: true), new LearnedPositionalEmbedding(12, 8),
        ];
        foreach (var layer in layers)
        {
            var json = ArchitectureJson.ToJson(layer);
            var elements = layer.state_dict().Values.Sum(t => t.NumberOfElements);
            var rebuilt = ArchitectureJson.FromJson(json, maxParameters: elements);

            Assert.AreEqual(json, ArchitectureJson.ToJson(rebuilt), "the same arguments");
            CollectionAssert.AreEqual(layer.state_dict().Select(e => $"{e.Key} {string.Join('x', e.Value.shape)}").ToList(),
                                      rebuilt.state_dict().Select(e => $"{e.Key} {string.Join('x', e.Value.shape)}").ToList(), json);
            if (elements > 0)
                StringAssert.Contains(Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.FromJson(json, maxParameters: elements - 1)).Message,
                                      $"would hold {elements:N0} parameters", $"{layer.GetType().Name} is charged exactly what it allocates");
        }
    }

    [TestMethod]
    public void ConvolutionResamplingAndPaddingLayers_RoundTripThroughAnArchitectureFile()
    {
        var net = new Sequential(
            new Conv1d(2, 4, [3], padding: [1], dilation: [2], groups: 2, paddingMode: "reflect"), new Conv2d(2, 4, [3, 5], [2, 1], [1, 2], bias: false),
            new Conv3d(2, 2, [2, 2, 2]), new ConvTranspose2d(4, 2, [2], [2], outputPadding: [1], dilation: [2]), new ConvTranspose1d(null, 3, [3]),
            new MaxPool2d([3], [2], [1], ceilMode: true), new AvgPool1d([2], countIncludePad: false), new AdaptiveAvgPool2d([2, 3]), new AdaptiveMaxPool1d([1]),
            new Upsample(null, [2.0], "bilinear", alignCorners: true), new Upsample([4, 5]), new PixelShuffle(2), new PixelUnshuffle(2),
            new ZeroPad2d([1, 2, 0, 3]), new ConstantPad1d([2], 0.5), new ReflectionPad2d([1]), new ReplicationPad1d([1, 3]),
            new ChannelDropout("Dropout2d", 0.3), new Flatten(0, -1), new Unflatten(-1, [2, -1]), new BatchNorm(3, 5));

        var rebuilt = ArchitectureJson.FromJson(ArchitectureJson.ToJson(net));

        Assert.AreEqual(net.ToString(), rebuilt.ToString());
        CollectionAssert.AreEqual(net.state_dict().Keys.ToList(), rebuilt.state_dict().Keys.ToList());
        StringAssert.Contains(net.ToString(), "(1): Conv2d(2, 4, kernel_size=(3, 5), stride=(2, 1), padding=(1, 2), bias=False)");
        StringAssert.Contains(net.ToString(), "(5): MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)");
    }

    [TestMethod]
    public void DeferredLinear_IsWrittenWithANullInputSize()
    {
        var json = ArchitectureJson.ToJson(ChapterNetworks.FirstNet());

        StringAssert.Contains(json, "\"inFeatures\": null");
        Assert.IsFalse(ArchitectureJson.FromJson(json).IsBuilt);
    }

    private static string Wrap(string root) => $"{{\"format\":\"onnxbridge.architecture\",\"version\":1,\"root\":{root}}}";

    [TestMethod]
    [DataRow("not json", "the architecture is not valid JSON")]
    [DataRow("{\"version\":1,\"root\":{\"type\":\"ReLU\"},\"kind\":\"not ours\"}", "not an architecture file")]
    [DataRow("{\"format\":\"onnxbridge.architecture\",\"version\":2,\"root\":{}}", "architecture version 2 is not supported")]
    [DataRow("{\"type\":\"Evil.Type\"}", "block '<root>': unknown block type 'Evil.Type'; searched the built-in layers and OnnxBridge.Core, DeepLearningComputation")]
    [DataRow("{\"type\":\"System.String\"}", "unknown block type 'System.String'")]
    [DataRow("{\"type\":\"Sequential\",\"children\":[{\"name\":\"0\",\"block\":{\"ref\":\"1\"}},{\"name\":\"1\",\"block\":{\"type\":\"ReLU\"}}]}", "block '0' refers to '\"1\"', which is not a complete block defined before it")]
    [DataRow("{\"type\":\"Sequential\",\"children\":[{\"name\":\"0\",\"block\":{\"ref\":\"\"}}]}", "block '0' refers to '\"\"', which is not a complete block")]
    [DataRow("{\"type\":\"Linear\",\"args\":{\"outFeatures\":100000,\"inFeatures\":100000}}", "block '<root>': Linear(inFeatures=100000, outFeatures=100000, bias=True) would hold 10,000,100,000 parameters, taking the network past its limit of 536,870,912")]
    [DataRow("{\"type\":\"Linear\",\"args\":{\"outFeatures\":4000000000,\"inFeatures\":4000000000}}", "Linear(inFeatures=4000000000, outFeatures=4000000000, bias=True) would hold more than 2^63 parameters")]
    [DataRow("{\"type\":\"BatchNorm\",\"args\":{\"numFeatures\":1000000000}}", "BatchNorm(numFeatures=1000000000, inputRank=4) would hold 4,000,000,001 parameters")]
    [DataRow("{\"type\":\"Normalization\",\"args\":{\"numFeatures\":1000000000}}", "Normalization(numFeatures=1000000000) would hold 2,000,000,000 parameters")]
    [DataRow("{\"type\":\"Conv2d\",\"args\":{\"inChannels\":65536,\"outChannels\":65536,\"kernelSize\":3}}", "block '<root>': Conv2d(inChannels=65536, outChannels=65536, kernelSize=[3], groups=1, bias=True) would hold 38,654,771,200 parameters")]
    [DataRow("{\"type\":\"Linear\",\"args\":{\"outFeatures\":\"ten\"}}", "argument 'outFeatures' is \"ten\", not a Int64")]
    [DataRow("{\"type\":\"Linear\",\"args\":{\"outFeatures\":-3}}", "block '<root>' (Linear): outFeatures ('-3') must be a non-negative and non-zero value")]
    [DataRow("{\"type\":\"Linear\",\"args\":{\"width\":3}}", "has no constructor argument 'width'")]
    [DataRow("{\"type\":\"Linear\"}", "needs the argument 'outFeatures'")]
    [DataRow("{\"type\":\"Sequential\",\"children\":[{\"name\":\"a.b\",\"block\":{\"type\":\"ReLU\"}}]}", "has no valid \"name\"")]
    public void HostileFiles_FailWithAClearError(string root, string expected)
    {
        var json = root.StartsWith('{') && !root.Contains("\"version\"", StringComparison.Ordinal) ? Wrap(root) : root;

        var error = Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.FromJson(json, Plugins));

        StringAssert.Contains(error.Message, expected);
    }

    [TestMethod]
    public void ParameterBound_CountsBiasesAndEveryLayerTogether()
    {
        // Linear(10, 10) holds 100 weights and 10 biases.
        var one = Wrap("{\"type\":\"Linear\",\"args\":{\"inFeatures\":10,\"outFeatures\":10}}");
        var two = Wrap("{\"type\":\"Sequential\",\"children\":[" +
                       "{\"name\":\"0\",\"block\":{\"type\":\"Linear\",\"args\":{\"inFeatures\":10,\"outFeatures\":10}}}," +
                       "{\"name\":\"1\",\"block\":{\"type\":\"Linear\",\"args\":{\"inFeatures\":10,\"outFeatures\":10}}}]}");

        Assert.AreEqual(110, ArchitectureJson.FromJson(one, maxParameters: 110).parameters().Sum(p => p.NumberOfElements));
        StringAssert.Contains(Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.FromJson(one, maxParameters: 109)).Message, "would hold 110 parameters");
        Assert.AreEqual(220, ArchitectureJson.FromJson(two, maxParameters: 220).parameters().Sum(p => p.NumberOfElements));
        var error = Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.FromJson(two, maxParameters: 219));
        StringAssert.Contains(error.Message, "block '1': Linear(inFeatures=10, outFeatures=10, bias=True) would hold 110 parameters, taking the network past its limit of 219 parameters and buffer elements in all (110 already)");
    }

    [TestMethod]
    public void ParameterBound_ChargesDeferredLayersWhenTheyMaterialize_BeforeAllocating()
    {
        // LazyLinear(1000) after a known Linear(20, 100000): the file alone cannot say it needs 10^8 weights.
        var json = Wrap("{\"type\":\"Sequential\",\"children\":[" +
                        "{\"name\":\"0\",\"block\":{\"type\":\"Linear\",\"args\":{\"inFeatures\":20,\"outFeatures\":100000}}}," +
                        "{\"name\":\"1\",\"block\":{\"type\":\"Linear\",\"args\":{\"outFeatures\":1000}}}]}");
        var net = ArchitectureJson.FromJson(json, maxParameters: 10_000_000);

        var error = Assert.ThrowsExactly<ArchitectureException>(() => net.Build(InputSpec.Float32("x", Dim.Named("batch"), 20)));

        StringAssert.Contains(error.Message, "LazyLinear materializing with weight [1000, 100000] would hold 100,001,000 parameters, taking the network past its limit of 10,000,000");
        Assert.IsFalse(net.IsBuilt);
    }

    [TestMethod]
    public void ParameterBound_ChargesADeferredBatchNormWhenItMaterializes()
    {
        // A LazyBatchNorm after Linear(20, 100000): 4 × 100,000 statistics and affines, known only from the input.
        var json = Wrap("{\"type\":\"Sequential\",\"children\":[" +
                        "{\"name\":\"0\",\"block\":{\"type\":\"Linear\",\"args\":{\"inFeatures\":20,\"outFeatures\":100000}}}," +
                        "{\"name\":\"1\",\"block\":{\"type\":\"BatchNorm\",\"args\":{\"inputRank\":2}}}]}");
        var net = ArchitectureJson.FromJson(json, maxParameters: 2_300_000);

        var error = Assert.ThrowsExactly<ArchitectureException>(() => net.Build(InputSpec.Float32("x", Dim.Named("batch"), 20)));

        StringAssert.Contains(error.Message, "LazyBatchNorm1d materializing with 100000 features would hold 400,000 parameters");
        Assert.IsFalse(net.IsBuilt);
    }

    [TestMethod]
    public void DeepNesting_IsRefused()
    {
        var root = "{\"type\":\"ReLU\"}";
        for (int i = 0; i < 70; i++) root = "{\"type\":\"Sequential\",\"children\":[{\"name\":\"0\",\"block\":" + root + "}]}";

        var error = Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.FromJson(Wrap(root)));

        StringAssert.Contains(error.Message, "deeper than 64 levels");
    }

    [TestMethod]
    public void BlockWithoutDescribableConstructor_NamesPathAndType()
    {
        var net = new Sequential(new Linear(2, 2), new Opaque(3));

        var error = Assert.ThrowsExactly<ArchitectureException>(() => ArchitectureJson.ToJson(net));

        StringAssert.StartsWith(error.Message, "block '1' (OnnxBridge.Samples.Tests.ArchitectureTests+Opaque) cannot be described");
    }

    /// <summary>Takes a constructor argument it does not expose, so it cannot be written down.</summary>
    private sealed class Opaque : Block
    {
        private readonly int _factor;

        public Opaque(int factor) : base(nameof(Opaque)) => _factor = factor;

        protected override Value Forward(Value input) => input * _factor;
    }
}
