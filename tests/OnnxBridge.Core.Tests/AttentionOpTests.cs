using System.Text.Json;
using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// scaled_dot_product_attention, the square subsequent mask and the positional encodings. PyTorch
/// 1.13 has no F.scaled_dot_product_attention, so its reference is PyTorch 2's definition written
/// with 1.13's ops (softmax(q·kᵀ·scale + mask)·v, is_causal the top-left lower triangle);
/// generate_square_subsequent_mask and the tutorial's PositionalEncoding table are 1.13's own.
/// Tolerance: |Δ| ≤ 2e-5 + 1e-4·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class AttentionOpTests
{
    public sealed record Case(string Name, long[] Q, long S, long Ev, string Mask = "none", bool Causal = false, double? Scale = null);

    private static readonly Case[] Cases =
    [
        new("plain", [2, 3, 5, 4], 7, 6),
        new("causal-square", [2, 2, 6, 4], 6, 4, Causal: true),
        new("causal-and-bool-mask-rectangular", [1, 2, 5, 4], 7, 3, Mask: "bool", Causal: true),
        new("float-mask-broadcast-scale", [3, 5, 4], 7, 4, Mask: "float", Scale: 0.3),
    ];

    private static void AssertClose(Tensor expected, Tensor actual, string what) => TensorAssert.Close(expected, actual, what, absolute: 2e-5, relative: 1e-4);

    private const string Reference = "import json, math, sys, torch\n" + """
        out = sys.argv[1]
        def sdpa(q, k, v, mask, causal, scale):
            s = q @ k.transpose(-2, -1) * (scale if scale is not None else q.shape[-1] ** -0.5)
            if causal: s = s.masked_fill(torch.ones(q.shape[-2], k.shape[-2], dtype=torch.bool).tril().logical_not(), float("-inf"))
            if mask is not None: s = s.masked_fill(mask.logical_not(), float("-inf")) if mask.dtype == torch.bool else s + mask
            return s.softmax(-1) @ v
        for c in json.loads(sys.argv[2]):
            torch.manual_seed(5)
            q = torch.randn(c["Q"], requires_grad=True)
            k = torch.randn(c["Q"][:-2] + [c["S"], c["Q"][-1]], requires_grad=True)
            v = torch.randn(c["Q"][:-2] + [c["S"], c["Ev"]], requires_grad=True)
            L = c["Q"][-2]
            mask = {"bool": torch.rand(L, c["S"]) < 0.7, "float": torch.randn(L, c["S"])}.get(c["Mask"])
            if c["Mask"] == "bool": mask[:, 0] = True
            y = sdpa(q, k, v, mask, c["Causal"], c["Scale"])
            r = torch.randn_like(y)
            (y * r).sum().backward()
            d = {"q": q.detach(), "k": k.detach(), "v": v.detach(), "y": y.detach(), "r": r, "grad.q": q.grad, "grad.k": k.grad, "grad.v": v.grad}
            if mask is not None: d["mask"] = mask.float() if mask.dtype == torch.bool else mask
            torch.save(d, f"{out}/{c['Name']}.pt")
        for n in (1, 4, 9): torch.save({"mask": torch.nn.Transformer.generate_square_subsequent_mask(n)}, f"{out}/square-{n}.pt")
        position = torch.arange(50).unsqueeze(1)
        div_term = torch.exp(torch.arange(0, 16, 2) * (-math.log(10000.0) / 16))
        pe = torch.zeros(50, 16)
        pe[:, 0::2] = torch.sin(position * div_term)
        pe[:, 1::2] = torch.cos(position * div_term)
        torch.save({"pe": pe}, f"{out}/positional.pt")
        """;

    private static readonly Lazy<string> s_reference = new(() => PythonTorch.RunInNewFolder("attention-ops", Reference, JsonSerializer.Serialize(Cases)));

    public static IEnumerable<object[]> Names() => Cases.Select(c => new object[] { c.Name });

    private static Value? MaskOf(Case c, Tensor? stored) => c.Mask switch
    {
        "bool" => Value.Eager(stored!.gt(0.5)),
        "float" => Value.Eager(stored!),
        _ => null,
    };

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void ScaledDotProductAttention_MatchesPyTorchsDefinition_EagerGradientsAndExport(string name)
    {
        var c = Cases.Single(x => x.Name == name);
        var d = TensorFiles.LoadDict(Path.Combine(s_reference.Value, name + ".pt"));
        var (q, k, v) = (d["q"].detach().requires_grad_(true), d["k"].detach().requires_grad_(true), d["v"].detach().requires_grad_(true));
        var y = Ops.ScaledDotProductAttention(Value.Eager(q), Value.Eager(k), Value.Eager(v), MaskOf(c, d.GetValueOrDefault("mask")), isCausal: c.Causal, scale: c.Scale).Tensor;
        AssertClose(d["y"], y, $"{name}: output");
        (y * d["r"]).sum().backward();
        foreach (var (label, t) in new[] { ("q", q), ("k", k), ("v", v) }) AssertClose(d["grad." + label], t.grad!, $"{name}: grad of {label}");

        // Exported with L and S symbolic, the mask (0/1 floats for a bool one) a graph input; run at other lengths.
        var harness = new SdpaHarness(c);
        Dim[] Batch = [.. c.Q.SkipLast(2).Select(n => (Dim)n)];
        var specs = new List<InputSpec>
        {
            InputSpec.Float32("q", [.. Batch, Dim.Named("L"), c.Q[^1]]),
            InputSpec.Float32("k", [.. Batch, Dim.Named("S"), c.Q[^1]]),
            InputSpec.Float32("v", [.. Batch, Dim.Named("S"), c.Ev]),
        };
        if (c.Mask != "none") specs.Add(InputSpec.Float32("mask", [Dim.Named("L"), Dim.Named("S")]));
        var model = OnnxExporter.Export(harness, new ExportOptions(specs[0], [.. specs.Skip(1)]));
        using var session = OnnxModelSession.Open(model.ToByteArray());
        foreach (var (l, s) in new[] { (3, 3), (8, 10) })
        {
            random.manual_seed(l);
            List<Tensor> feeds = [randn([.. c.Q.SkipLast(2), l, c.Q[^1]]), randn([.. c.Q.SkipLast(2), s, c.Q[^1]]), randn([.. c.Q.SkipLast(2), s, c.Ev])];
            if (c.Mask == "bool") feeds.Add(rand(l, s).lt(0.7).index_put_(tensor(true), TensorIndex.Colon, 0).to(ScalarType.Float32));
            if (c.Mask == "float") feeds.Add(randn(l, s));
            var ours = harness.forward_all([.. feeds])[0];
            var theirs = session.Run([.. specs.Zip(feeds).Select(p => new NamedTensor(p.First.Name, TensorConvert.ToHost(p.Second)))]);
            AssertClose(ours, TensorConvert.ToTorch(theirs[0].Tensor), $"{name}: ONNX Runtime at L={l}, S={s}");
        }
    }

    private sealed class SdpaHarness(Case c) : MultiInputBlock("SdpaHarness")
    {
        public override int InputCount => c.Mask == "none" ? 3 : 4;

        protected override Value Forward(IReadOnlyList<Value> inputs)
        {
            var mask = c.Mask switch { "bool" => inputs[3] > 0.5, "float" => inputs[3], _ => null };
            return Ops.ScaledDotProductAttention(inputs[0], inputs[1], inputs[2], mask, isCausal: c.Causal, scale: c.Scale);
        }
    }

    [TestMethod]
    public void SquareSubsequentMask_IsPyTorchs_AndFollowsTheLengthInAnExport()
    {
        var block = new SquareMaskBlock();
        var model = OnnxExporter.Export(block, new ExportOptions(InputSpec.Float32("x", [Dim.Named("seq"), 2])));
        using var session = OnnxModelSession.Open(model.ToByteArray());
        foreach (var n in new[] { 1, 4, 9 })
        {
            var expected = TensorFiles.LoadDict(Path.Combine(s_reference.Value, $"square-{n}.pt"))["mask"];
            var x = zeros(n, 2);
            Assert.IsTrue(expected.equal(block.forward(x)).all().item<bool>(), $"eager square mask of {n}");
            var exported = TensorConvert.ToTorch(session.Run([new NamedTensor("x", TensorConvert.ToHost(x))])[0].Tensor);
            Assert.IsTrue(expected.equal(exported).all().item<bool>(), $"ONNX Runtime's square mask of {n} (exported once, with a symbolic length)");
        }
    }

    private sealed class SquareMaskBlock() : Block("SquareMask")
    {
        protected override Value Forward(Value input) => Ops.SquareSubsequentMask(Ops.Size(input, 0));
    }

    [TestMethod]
    public void SinusoidalPositionalEncoding_IsTheTutorialsTable_AtAnyLength()
    {
        var expected = TensorFiles.LoadDict(Path.Combine(s_reference.Value, "positional.pt"))["pe"];
        AssertClose(expected, SinusoidalPositionalEncoding.Table(Value.Eager(tensor(50L)), 16).Tensor, "the [50, 16] table");

        var encoding = new SinusoidalPositionalEncoding(16, dropout: 0.1, batchFirst: true);
        encoding.eval();
        Assert.AreEqual(0, encoding.state_dict().Count, "no buffer: the table is computed from the length");
        var x = randn(2, 50, 16);
        AssertClose(x + expected.unsqueeze(0), encoding.forward(x), "x + PE in eval mode");
        AssertExportFollowsLength(encoding, [Dim.Named("batch"), Dim.Named("seq"), 16], n => randn(2, n, 16), [3, 50, 77]);
    }

    [TestMethod]
    public void LearnedPositionalEmbedding_AddsItsRows_AndRefusesLongerSequences()
    {
        var embedding = new LearnedPositionalEmbedding(10, 6);
        Assert.AreEqual("weight", embedding.state_dict().Keys.Single());
        var x = randn(7, 2, 6);
        AssertClose(x + embedding.Weight.detach()[..7].unsqueeze(1), embedding.forward(x), "x + weight[:L]");
        AssertExportFollowsLength(embedding, [Dim.Named("seq"), Dim.Named("batch"), 6], n => randn(n, 3, 6), [1, 4, 10]);
        var error = Assert.ThrowsExactly<ArgumentException>(() => embedding.forward(randn(11, 2, 6)));
        StringAssert.Contains(error.Message, "holds 10 positions, but the sequence has 11");
    }

    [TestMethod]
    public void MultiheadAttention_InitializesAsPyTorch_DropsOutOnlyInTraining_AndTakesUnbatchedInput()
    {
        var mha = new MultiheadAttention(12, 3, dropout: 0.5);
        var bound = Math.Sqrt(6.0 / (12 + 36));   // xavier_uniform_ over in_proj_weight [3E, E]
        Assert.IsTrue(mha.InProjWeight!.abs().max().item<float>() <= bound, "in_proj_weight within the Xavier bound");
        Assert.IsTrue(mha.InProjWeight.std().item<float>() > bound / 3, "in_proj_weight spread over the Xavier range");
        Assert.AreEqual(0f, mha.InProjBias!.abs().sum().item<float>());
        Assert.AreEqual(0f, mha.OutProj.Bias!.abs().sum().item<float>());
        CollectionAssert.AreEqual(new[] { "in_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }, mha.state_dict().Keys.ToArray());
        var separate = new MultiheadAttention(12, 3, kdim: 5, vdim: 7);
        CollectionAssert.AreEqual(new[] { "q_proj_weight", "k_proj_weight", "v_proj_weight", "in_proj_bias", "out_proj.weight", "out_proj.bias" }, separate.state_dict().Keys.ToArray());

        var x = Value.Eager(randn(4, 2, 12));
        using var noGrad = no_grad();
        mha.eval();
        var (first, _) = mha.Attend(x, x, x);
        Assert.IsTrue(first.Tensor.equal(mha.Attend(x, x, x).Output.Tensor).all().item<bool>(), "eval mode is deterministic");
        mha.train();
        Assert.IsFalse(first.Tensor.allclose(mha.Attend(x, x, x).Output.Tensor), "training mode drops attention weights");

        mha.eval();
        var (unbatched, perHeadMask) = (Value.Eager(randn(4, 12)), Value.Eager(randn(3, 4, 4)));
        var (alone, aloneWeights) = mha.Attend(unbatched, unbatched, unbatched, attnMask: perHeadMask, averageAttnWeights: false);
        var asBatch = Value.Eager(unbatched.Tensor.unsqueeze(1));
        var (batched, batchedWeights) = mha.Attend(asBatch, asBatch, asBatch, attnMask: perHeadMask, averageAttnWeights: false);
        Assert.AreEqual("[4, 12] [3, 4, 4]", $"{Dim.Format(alone.Shape)} {Dim.Format(aloneWeights!.Shape)}", "unbatched input: unbatched output and per-head weights");
        AssertClose(batched.Tensor.squeeze(1), alone.Tensor, "unbatched = a batch of one");
        AssertClose(batchedWeights!.Tensor.squeeze(0), aloneWeights.Tensor, "unbatched weights = a batch of one's");

        var stack = new TransformerEncoder(new TransformerEncoderLayer(12, 3, 24), 3);
        var layers = stack.Layers.Select(l => l.state_dict()).ToList();
        foreach (var key in layers[0].Keys)
            Assert.IsTrue(layers.All(l => l[key].equal(layers[0][key]).all().item<bool>()), $"{key}: the stack's layers start as copies of one layer, as PyTorch's deepcopy makes them");
    }

    private static void AssertExportFollowsLength(Block block, Dim[] shape, Func<long, Tensor> input, long[] lengths)
    {
        var model = OnnxExporter.Export(block, new ExportOptions(InputSpec.Float32("x", shape)));
        using var session = OnnxModelSession.Open(model.ToByteArray());
        foreach (var n in lengths)
        {
            var x = input(n);
            using var noGrad = no_grad();
            AssertClose(block.forward(x), TensorConvert.ToTorch(session.Run([new NamedTensor("x", TensorConvert.ToHost(x))])[0].Tensor), $"{block.GetType().Name}: ONNX Runtime at length {n}");
        }
    }
}
