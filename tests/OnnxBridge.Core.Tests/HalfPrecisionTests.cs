using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Networks converted to float16 and bfloat16 (PyTorch's <c>net.half()</c>, <c>net.bfloat16()</c>)
/// against tests/Conformance/torch_half.py under Debian's PyTorch 1.13: the converted block
/// strict-loads PyTorch's converted state dict (so every key has PyTorch's dtype, integer buffers
/// untouched), runs, exports with half-precision element types and runs again under ONNX Runtime.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class HalfPrecisionTests
{
    private static readonly Lazy<PyTorchCases<Case>> s_cases = new(() => PyTorchCases<Case>.Generate("torch_half.py"));

    /// <summary>
    /// Our float16 forward against PyTorch's float32 arithmetic on the same float16 weights and input
    /// (PyTorch 1.13's CPU has no float16 matmul): every op's float16 rounding, a few layers deep.
    /// </summary>
    private static readonly Tolerance Float16VersusFloat32Arithmetic = new(3e-3, 3e-3);

    /// <summary>bfloat16 gradients: a backward pass of bfloat16 roundings, summed in possibly different orders.</summary>
    private static readonly Tolerance BFloat16Gradient = new(3e-2, 3e-2);

    private static readonly Dictionary<string, (Func<Block> Make, bool Tokens)> Networks = new(StringComparer.Ordinal)
    {
        ["mlp"] = (() => Net.Sequential().Linear(20, 32).ReLU().Linear(32, 10).Build(), false),
        ["batchnorm_mlp"] = (() => Net.Sequential().Linear(20, 32).BatchNorm1d(32).GELU("tanh").Linear(32, 10).LogSoftmax(1).Build(), false),
        ["layernorm_gelu_mlp"] = (() => Net.Sequential().Linear(20, 32).Add(new LayerNorm(32)).GELU().Dropout(0.1).Linear(32, 10).Softmax(1).Build(), false),
        ["cnn"] = (() => Net.Sequential().Add(new Conv2d(1, 4, [3], padding: [1])).BatchNorm2d(4).ReLU().MaxPool2d(2).Flatten().Linear(64, 10).Build(), false),
        ["embedding"] = (() => Net.Sequential().Add(new Embedding(50, 8)).Flatten().Linear(48, 4).Tanh().Build(), true),
    };

    [TestMethod]
    public void Float16_StrictLoadsPyTorchsHalfStateDict_MatchesPyTorch_AndUnderOnnxRuntimeAtEveryOpset()
    {
        using var checkedModels = new TempFolder();
        var failures = new List<string>();
        foreach (var c in s_cases.Value.Cases)
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var record = s_cases.Value.Record(c.Name);
            var net = Converted(c.Name, ScalarType.Float16, record, "state.f16.");
            var input = Input(record, ScalarType.Float16);

            var eager = TensorConvert.ToHost(net.forward(TensorConvert.ToTorch(input)));
            Assert.AreEqual(DataType.Float16, eager.ElementType, c.Name);
            Conformance.Check(failures, c.Name, "float16 forward vs PyTorch's float32 arithmetic", record["output.f16"], TensorConvert.ToHost(TensorConvert.ToTorch(eager).to(ScalarType.Float32)), Float16VersusFloat32Arithmetic);
            foreach (var opset in Conformance.Opsets)
            {
                var model = OnnxExporter.Export(net, new ExportOptions(Spec(input)) { Opset = opset });
                Assert.IsFalse(model.Graph.Initializer.Any(i => i.DataType is (int)DataType.Float or (int)DataType.Double), $"{c.Name}: no float32 weights or constants left");
                var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
                if (opset == ExportOptions.DefaultOpset) File.WriteAllBytes(Path.Combine(checkedModels.Path, c.Name + ".onnx"), bytes);
                using var session = OnnxModelSession.Open(bytes);
                Conformance.Check(failures, c.Name, $"ONNX Runtime at opset {opset} vs TorchSharp", eager, session.Run([new NamedTensor("input", input)])[0].Tensor, Tolerance.Float16);
            }
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} differences:\n{string.Join("\n", failures)}");
        OnnxChecker.AssertValid(Directory.GetFiles(checkedModels.Path, "*.onnx"));
    }

    [TestMethod]
    public void BFloat16_StrictLoadsPyTorchsBFloat16StateDict_ForwardAndGradientsMatchPyTorch()
    {
        var failures = new List<string>();
        foreach (var c in s_cases.Value.Cases)
        {
            using var scope = NewDisposeScope();
            var record = s_cases.Value.Record(c.Name);
            var net = Converted(c.Name, ScalarType.BFloat16, record, "state.bf16.");
            var input = TensorConvert.ToTorch(Input(record, ScalarType.BFloat16));
            if (input.is_floating_point()) input.requires_grad_(true);

            var output = net.forward(input);
            Conformance.Check(failures, c.Name, "bfloat16 forward", record["output.bf16"], TensorConvert.ToHost(output), Tolerance.BFloat16);
            (output.to(ScalarType.Float32) * TensorConvert.ToTorch(record["loss_weight"])).sum().backward();
            if (record.TryGetValue("grad.bf16.input", out var inputGradient))
                Conformance.Check(failures, c.Name, "gradient of the input", inputGradient, TensorConvert.ToHost(input.grad!), BFloat16Gradient);
            foreach (var (key, parameter) in net.named_parameters())
                Conformance.Check(failures, c.Name, $"gradient of {key}", record["grad.bf16." + key], TensorConvert.ToHost(parameter.grad!), BFloat16Gradient);
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} differences from PyTorch:\n{string.Join("\n", failures)}");
    }

    [TestMethod]
    public void BFloat16_ExportsWhereOnnxTakesIt_PassesOnnxsChecker_AndRefusesConvNamingTheOpAndBlock()
    {
        using var checkedModels = new TempFolder();
        foreach (var name in new[] { "mlp", "batchnorm_mlp", "layernorm_gelu_mlp", "embedding" })
        {
            var net = Networks[name].Make().to(ScalarType.BFloat16);
            net.eval();
            var spec = new InputSpec("input", Networks[name].Tokens ? DataType.Int64 : DataType.Bfloat16, Networks[name].Tokens ? [Dim.Named("batch"), 6] : [Dim.Named("batch"), 20]);
            var model = OnnxExporter.Export(net, new ExportOptions(spec));
            Assert.AreEqual((int)DataType.Bfloat16, model.Graph.Output[0].Type.TensorType.ElemType, name);
            File.WriteAllBytes(Path.Combine(checkedModels.Path, name + ".onnx"), Google.Protobuf.MessageExtensions.ToByteArray(model));
        }
        OnnxChecker.AssertValid(Directory.GetFiles(checkedModels.Path, "*.onnx"));

        var cnn = Networks["cnn"].Make().to(ScalarType.BFloat16);
        var refused = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(cnn, new ExportOptions(new InputSpec("input", DataType.Bfloat16, [Dim.Named("batch"), 1, 8, 8]))));
        StringAssert.StartsWith(refused.Message, "block '0', op Conv: ONNX's Conv takes no bfloat16 tensors");
        var lowOpset = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(Networks["batchnorm_mlp"].Make().to(ScalarType.BFloat16),
            new ExportOptions(new InputSpec("input", DataType.Bfloat16, [Dim.Named("batch"), 20])) { Opset = 13 }));
        StringAssert.Contains(lowOpset.Message, "op BatchNormalization: ONNX's BatchNormalization takes bfloat16 from opset 14; export with --opset 14 or later");
    }

    [TestMethod]
    public void ScalarOperations_KeepTheValuesHalfPrecisionType_EagerlyAndInTheGraph()
    {
        var net = new Lambda(x => ((x * 0.5 + 1).Pow(2) - x.Clamp(-1, 1)) / 3);
        using var x = randn(4, 5).to(ScalarType.Float16);

        var eager = net.forward(x);
        var model = OnnxExporter.Export(net, new ExportOptions(new InputSpec("x", DataType.Float16, [Dim.Named("batch"), 5])));
        using var session = OnnxModelSession.Open(Google.Protobuf.MessageExtensions.ToByteArray(model));
        var actual = session.Run([new NamedTensor("x", TensorConvert.ToHost(x))])[0].Tensor;

        Assert.AreEqual(ScalarType.Float16, eager.dtype);
        var constants = model.Graph.Node.Where(n => n.OpType == "Constant").Select(n => n.Attribute.Single().T.DataType).Distinct().ToList();
        CollectionAssert.AreEquivalent(new[] { (int)DataType.Float16 }, constants, "every scalar became a float16 constant");
        Assert.IsTrue(TensorComparer.Compare("output", TensorConvert.ToHost(eager), actual, Tolerance.Float16).Passed);
    }

    [TestMethod]
    public void ToFloat16_ConvertsFloatingPointOnly_KeepsTheBlocksOwnFields_AndRefusesIntegerTypes()
    {
        var net = Net.Sequential().Linear(4, 3).BatchNorm1d(3).Add(new PReLU()).Build();

        net.to(ScalarType.Float16);

        var state = net.state_dict();
        Assert.AreEqual(ScalarType.Float16, state["0.weight"].dtype);
        Assert.AreEqual(ScalarType.Float16, state["1.running_var"].dtype);
        Assert.AreEqual(ScalarType.Int64, state["1.num_batches_tracked"].dtype, "as PyTorch: integer buffers keep their type");
        Assert.AreEqual(ScalarType.Float16, ((PReLU)net[2]).Weight.dtype, "the layer's own property points at the converted parameter");
        Assert.AreEqual(ScalarType.Float16, net.forward(ones(2, 4, ScalarType.Float16)).dtype);
        var refused = Assert.ThrowsExactly<ArgumentException>(() => net.to(ScalarType.Int32));
        StringAssert.Contains(refused.Message, "a block converts to a floating-point type");
    }

    [TestMethod]
    public void BFloat16Rounding_IsPyTorchs_NearestTiesToEven()
    {
        // Ties, values just either side of them, subnormals, the largest finite value, overflow, NaN.
        float[] values = [1.00390625f, 1.01171875f, 1.0039063f, 1.0039062f, -2.7182817f, 3.1415927f, 1e-40f, -1e-39f, 3.389e38f, 3.4e38f, float.NaN, 0f, -0f, 65504f];
        var script = "import sys, struct, torch\n" +
                     "for a in sys.argv[1:]:\n" +
                     "    v = struct.unpack('<f', struct.pack('<I', int(a)))[0]\n" +
                     "    b = torch.tensor([v], dtype=torch.float32).to(torch.bfloat16).view(torch.int16).item() & 0xffff\n" +
                     "    print(b)\n";

        var pytorch = PythonTorch.Run(script, [.. values.Select(v => BitConverter.SingleToUInt32Bits(v).ToString(System.Globalization.CultureInfo.InvariantCulture))])
            .Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => ushort.Parse(l, System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        var ours = values.Select(BFloat16.FromSingle).ToArray();
        for (int i = 0; i < values.Length; i++)
        {
            if (float.IsNaN(values[i])) Assert.IsTrue(float.IsNaN(BFloat16.ToSingle(ours[i])) && float.IsNaN(BFloat16.ToSingle(pytorch[i])), "NaN stays NaN");
            else Assert.AreEqual(pytorch[i], ours[i], $"{values[i]:R}: PyTorch 0x{pytorch[i]:x4}, ours 0x{ours[i]:x4}");
        }
    }

    /// <summary>The case's network, converted to <paramref name="type"/> and strict-loaded with PyTorch's state dict of that type, in eval mode.</summary>
    private static Block Converted(string name, ScalarType type, Dictionary<string, HostTensor> record, string prefix)
    {
        var net = Networks[name].Make().to(type);
        var state = record.Where(e => e.Key.StartsWith(prefix, StringComparison.Ordinal)).Select(e => (e.Key[prefix.Length..], e.Value)).ToList();
        StateDicts.Load(net, state, $"PyTorch's {name}.{(type == ScalarType.Float16 ? "half" : "bfloat16")}() state dict");
        net.eval();
        return net;
    }

    /// <summary>The case's input: float inputs rounded to <paramref name="type"/>, token ids as they are.</summary>
    private static HostTensor Input(Dictionary<string, HostTensor> record, ScalarType type) =>
        record["input"].ElementType == DataType.Int64 ? record["input"] : TensorConvert.ToHost(TensorConvert.ToTorch(record["input"]).to(type));

    private static InputSpec Spec(HostTensor input) => new("input", input.ElementType, [Dim.Named("batch"), .. input.Shape.Skip(1).Select(Dim.Known)]);

    private sealed class Lambda(Func<Value, Value> body) : Block("Lambda")
    {
        protected override Value Forward(Value input) => body(input);
    }

    private sealed record Case(string Name);
}
