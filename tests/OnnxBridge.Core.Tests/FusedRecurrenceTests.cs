using System.Globalization;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// A recurrent layer runs eagerly on libtorch's own kernel, whose parameters it registers as its own
/// (<see cref="FusedRecurrence"/>). What that must keep: an optimizer step, a state-dict load and a
/// conversion reach the kernel; it computes what the step-by-step recurrence (the export's form,
/// itself held to PyTorch by the conformance tests) computes, gradients included; building a layer
/// draws from the random generator exactly what the initialization needs — PyTorch 1.13's values
/// from the same seed; dropout follows train/eval. Tolerance against the step-by-step form: |Δ| ≤ 1e-5 + 1e-4·|ref| (float32),
/// 1e-12 + 1e-10·|ref| (float64).
/// </summary>
[TestClass]
public sealed class FusedRecurrenceTests
{
    public static IEnumerable<object[]> Layers() =>
    [
        ["LSTM", ScalarType.Float32],
        ["LSTM", ScalarType.Float64],
        ["GRU", ScalarType.Float32],
        ["RNN", ScalarType.Float64],
    ];

    private static RecurrentLayer Create(string kind, double dropout = 0) => kind switch
    {
        "LSTM" => new LSTM(5, 7, numLayers: 2, bidirectional: true, batchFirst: true, dropout: dropout),
        "GRU" => new GRU(5, 7, numLayers: 2, bidirectional: true, batchFirst: true, dropout: dropout),
        _ => new RNN(5, 7, numLayers: 2, nonlinearity: "tanh", bidirectional: true, batchFirst: true, dropout: dropout),
    };

    /// <summary>The step-by-step recurrence (the <see cref="Ops"/> functions) on the layer's current parameters.</summary>
    private static Tensor[] StepByStep(RecurrentLayer layer, Tensor x)
    {
        var p = layer.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        var layers = Enumerable.Range(0, (int)layer.NumLayers).Select(l => (IReadOnlyList<RecurrentWeights>)[.. Enumerable.Range(0, layer.Bidirectional ? 2 : 1).Select(d =>
        {
            var s = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
            return new RecurrentWeights(Value.Eager(p["weight_ih" + s]), Value.Eager(p["weight_hh" + s]), Value.Eager(p["bias_ih" + s]), Value.Eager(p["bias_hh" + s]));
        })]).ToList();
        var timeMajor = Value.Eager(x.permute(1, 0, 2));
        var outputs = layer switch
        {
            LSTM => Ops.Lstm(timeMajor, layers) is var (y, h, c) ? new[] { y, h, c } : [],
            GRU => Ops.Gru(timeMajor, layers) is var (y, h) ? [y, h] : [],
            _ => Ops.Rnn(timeMajor, layers, ((RNN)layer).Nonlinearity == "relu") is var (y, h) ? [y, h] : [],
        };
        return [outputs[0].Tensor.permute(1, 0, 2), .. outputs.Skip(1).Select(v => v.Tensor)];
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what) =>
        TensorAssert.Close(expected, actual, what, expected.dtype == ScalarType.Float64 ? 1e-12 : 1e-5, expected.dtype == ScalarType.Float64 ? 1e-10 : 1e-4);

    private static Tensor Loss(IReadOnlyList<Tensor> outputs) => outputs.Select((y, i) => (y * (i + 1)).sin().sum()).Aggregate((a, b) => a + b);

    [TestMethod]
    [DynamicData(nameof(Layers))]
    public void Layer_TrainsTheKernelItRuns_AndMatchesTheStepByStepRecurrence(string kind, ScalarType type)
    {
        random.manual_seed(21);
        var layer = Create(kind);
        if (type != ScalarType.Float32) layer.to(type); // the conversion adopts a new kernel: training must reach that one
        var x = randn([3, 6, 5], type);
        using var optimizer = optim.SGD(layer.parameters(), 0.05);

        for (int step = 0; step < 2; step++)
        {
            // Forward and every gradient equal the step-by-step form's on the same parameters...
            layer.zero_grad();
            var fused = layer.forward_all(x);
            Loss(fused).backward();
            var fusedGrads = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
            layer.zero_grad();
            var reference = StepByStep(layer, x);
            Loss(reference).backward();
            for (int i = 0; i < reference.Length; i++) AssertClose(reference[i], fused[i], $"{kind} {type}, step {step}: output {i}");
            foreach (var (name, parameter) in layer.named_parameters())
            {
                AssertClose(parameter.grad!, fusedGrads[name], $"{kind} {type}, step {step}: grad {name}");
                Assert.IsTrue(fusedGrads[name].abs().max().to(ScalarType.Float64).item<double>() > 0, $"{kind} {type}, step {step}: {name} got a gradient");
            }
            // ...and the optimizer's update of parameters() changes what the kernel computes.
            optimizer.step();
            using var noGrad = no_grad();
            Assert.IsFalse(layer.forward_all(x)[0].allclose(fused[0].detach()), $"{kind} {type}, step {step}: the update reached the kernel");
        }
    }

    [TestMethod]
    public void StateDictLoad_ReachesTheKernel()
    {
        random.manual_seed(22);
        var (source, target) = (Create("LSTM"), Create("LSTM"));
        var x = randn(2, 4, 5);
        using var temp = new TempFolder();
        StateDicts.Save(source, temp.File("lstm.safetensors"));

        StateDicts.Load(target, temp.File("lstm.safetensors"));

        using var noGrad = no_grad();
        var (expected, actual) = (source.forward_all(x), target.forward_all(x));
        for (int i = 0; i < expected.Length; i++) Assert.IsTrue(expected[i].equal(actual[i]).all().item<bool>(), $"output {i} equals the source's");
    }

    [TestMethod]
    public void Construction_DrawsOnlyTheInitialization_FromTheRandomGenerator()
    {
        // PyTorch draws each parameter from U(−1/√H, 1/√H) in registration order, and nothing else;
        // the native kernel's own initial draws must not shift what the next layer gets.
        random.manual_seed(23);
        var layer = new LSTM(5, 7, numLayers: 2, bidirectional: true);
        var next = rand(4);

        random.manual_seed(23);
        var bound = 1 / Math.Sqrt(7);
        foreach (var (name, parameter) in layer.named_parameters())
            Assert.IsTrue(empty(parameter.shape).uniform_(-bound, bound).equal(parameter).all().item<bool>(), $"{name}: the draw in registration order");
        Assert.IsTrue(rand(4).equal(next).all().item<bool>(), "the generator is where the initialization alone leaves it");
    }

    private const string PyTorchConstruction = """
        import json, torch
        torch.manual_seed(23)
        layer = torch.nn.LSTM(5, 7, num_layers=2, bidirectional=True)
        print(json.dumps({**{k: p.flatten().tolist() for k, p in layer.named_parameters()}, "next": torch.rand(4).tolist()}))
        """;

    [TestMethod]
    public void Construction_FromASeed_GivesPyTorchsInitialValues_AndLeavesTheGeneratorWhereItDoes()
    {
        // Same seed, same generator (libtorch's CPU mt19937) and same draws in the same order as
        // PyTorch 1.13: the values agree to float32 rounding, and so does the next draw after the layer.
        var reference = System.Text.Json.JsonDocument.Parse(PythonTorch.Run(PyTorchConstruction)).RootElement;
        random.manual_seed(23);
        var layer = new LSTM(5, 7, numLayers: 2, bidirectional: true);
        var next = rand(4);

        Tensor Expected(string key) => tensor(reference.GetProperty(key).EnumerateArray().Select(v => v.GetSingle()).ToArray());
        foreach (var (name, parameter) in layer.named_parameters())
            TensorAssert.Close(Expected(name), parameter.detach().flatten(), $"{name} as PyTorch draws it", 1e-6, 0);
        TensorAssert.Close(Expected("next"), next, "the draw after the layer, as after PyTorch's", 1e-6, 0);
    }

    [TestMethod]
    public void Dropout_BetweenLayers_OnlyInTraining()
    {
        random.manual_seed(24);
        var layer = Create("GRU", dropout: 0.5);
        var x = randn(3, 6, 5);
        using var noGrad = no_grad();

        layer.train();
        Assert.IsFalse(layer.forward_all(x)[0].equal(layer.forward_all(x)[0]).all().item<bool>(), "training: two forwards drop different units");
        layer.eval();
        var evaluated = layer.forward_all(x);
        Assert.IsTrue(evaluated[0].equal(layer.forward_all(x)[0]).all().item<bool>(), "eval: deterministic");
        AssertClose(StepByStep(layer, x)[0], evaluated[0], "eval: no dropout at all");
    }

    [TestMethod]
    public void HalfPrecision_RunsAndStaysNearFloat32()
    {
        random.manual_seed(25);
        var layer = Create("LSTM");
        var x = randn(2, 4, 5);
        using var noGrad = no_grad();
        var single = layer.forward_all(x);

        layer.to(ScalarType.BFloat16);
        var half = layer.forward_all(x.to(ScalarType.BFloat16));

        for (int i = 0; i < single.Length; i++)
        {
            Assert.AreEqual(ScalarType.BFloat16, half[i].dtype, $"output {i}");
            TensorAssert.Close(single[i], half[i].to(ScalarType.Float32), $"output {i} in bfloat16 (|Δ| ≤ 0.03 + 0.03·|ref|)", 0.03, 0.03);
        }
    }

    [TestMethod]
    public void WrongInputs_AreRefusedWithTheShapesAndCounts()
    {
        var layer = new LSTM(5, 7);

        var features = Assert.ThrowsExactly<ArgumentException>(() => layer.forward_all(zeros(4, 2, 3)));
        StringAssert.Contains(features.Message, "input_size 5");
        StringAssert.Contains(features.Message, "[4, 2, 3]");
        var count = Assert.ThrowsExactly<ArgumentException>(() => layer.forward_all(zeros(4, 2, 5), zeros(1, 2, 7)));
        StringAssert.Contains(count.Message, "h_0 and c_0");
    }
}
