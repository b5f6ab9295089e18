using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// MultiheadAttention, TransformerEncoderLayer/Encoder and TransformerDecoderLayer/Decoder against
/// real PyTorch's (Debian's python3-torch 1.13) in 11 configurations: self and cross attention,
/// kdim/vdim, no bias, bool and float masks (2-D and per head), key padding, causal masks (PyTorch's
/// generate_square_subsequent_mask against our in-graph is_causal), weights averaged or per head,
/// norm_first, gelu, batch_first, stacks with a final norm. PyTorch's state dict (every parameter
/// redrawn so biases are not zero) loads strictly; the forward and the gradients of the inputs and
/// every parameter agree eagerly; the export (masks as graph inputs, causal masks computed in the
/// graph) runs under ONNX Runtime, and imported back into a block, at two lengths other than PyTorch's; PyTorch strictly loads our
/// state dict back with equal outputs. Tolerance: |Δ| ≤ 2e-5 + 1e-4·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class AttentionConformanceTests
{
    /// <param name="Kind">mha, enc, encstack, dec or decstack.</param>
    /// <param name="Mask">none, bool (2-D, true = may not attend), float3d ([N·heads, L, S], added) or causal (the decoder's tgt_mask).</param>
    /// <param name="Padding">A bool key padding mask (the memory's, for decoders).</param>
    public sealed record Config(string Name, string Kind, bool BatchFirst = false, int L = 5, int S = 5, bool Self = true, int KDim = 0, int VDim = 0, bool Bias = true,
                                string Mask = "none", bool Padding = false, bool NeedWeights = true, bool Average = true,
                                bool NormFirst = false, string Activation = "relu", int Layers = 1, bool FinalNorm = false);

    private static readonly Config[] Configs =
    [
        new("mha-self", "mha"),
        new("mha-cross-kdim-vdim-bool-mask", "mha", BatchFirst: true, L: 4, S: 6, Self: false, KDim: 6, VDim: 3, Mask: "bool"),
        new("mha-padding-float3d-per-head", "mha", L: 5, S: 7, Self: false, Mask: "float3d", Padding: true, Average: false),
        new("mha-no-bias-no-weights-causal", "mha", BatchFirst: true, Bias: false, NeedWeights: false, Mask: "causal"),
        new("enc-relu", "enc"),
        new("enc-gelu-norm-first-padding", "enc", BatchFirst: true, NormFirst: true, Activation: "gelu", Padding: true),
        new("encstack-causal-norm", "encstack", Mask: "causal", Layers: 2, FinalNorm: true),
        new("encstack-batch-first-bool", "encstack", BatchFirst: true, Mask: "bool", Layers: 2),
        new("dec-causal-memory-padding", "dec", L: 5, S: 7, Self: false, Mask: "causal", Padding: true),
        new("dec-gelu-norm-first-batch-first", "dec", BatchFirst: true, L: 6, S: 4, Self: false, NormFirst: true, Activation: "gelu"),
        new("decstack-causal-norm", "decstack", L: 5, S: 6, Self: false, Mask: "causal", Layers: 2, FinalNorm: true),
    ];

    private const int E = 8, Heads = 2, Batch = 3;

    private static void AssertClose(Tensor expected, Tensor actual, string what) => TensorAssert.Close(expected, actual, what, absolute: 2e-5, relative: 1e-4);

    private const string Module = """
        import torch.nn as nn
        def build(c):
            k = c["Kind"]
            if k == "mha":
                return nn.MultiheadAttention(8, 2, dropout=0.1, bias=c["Bias"], kdim=c["KDim"] or None, vdim=c["VDim"] or None, batch_first=c["BatchFirst"])
            args = dict(dim_feedforward=16, dropout=0.1, activation=c["Activation"], batch_first=c["BatchFirst"], norm_first=c["NormFirst"])
            norm = nn.LayerNorm(8) if c["FinalNorm"] else None
            if k == "enc": return nn.TransformerEncoderLayer(8, 2, **args)
            if k == "dec": return nn.TransformerDecoderLayer(8, 2, **args)
            if k == "encstack": return nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2, **args), c["Layers"], norm=norm, enable_nested_tensor=False)
            return nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, **args), c["Layers"], norm=norm)
        def masks(d, c):
            m = None
            if c["Mask"] == "causal": m = nn.Transformer.generate_square_subsequent_mask(c["L"])
            elif c["Mask"] == "bool": m = d["attn_mask"] > 0.5
            elif c["Mask"] == "float3d": m = d["attn_mask"]
            return m, (d["padding"] > 0.5 if c["Padding"] else None)
        def run(net, c, d, q, k, v):
            m, p = masks(d, c)
            if c["Kind"] == "mha":
                y, w = net(q, k, v, key_padding_mask=p, need_weights=c["NeedWeights"], attn_mask=m, average_attn_weights=c["Average"])
                return [y] if w is None else [y, w]
            if c["Kind"].startswith("enc"): return [net(q, m, p)]
            return [net(q, k, tgt_mask=m, memory_key_padding_mask=p)]
        """;

    /// <summary>For each configuration: the state dict, the inputs and masks, the loss weights, PyTorch's outputs and gradients.</summary>
    private const string Reference = "import json, sys, torch\n" + Module + "\n" + """
        out = sys.argv[1]
        for c in json.loads(sys.argv[2]):
            torch.manual_seed(11)
            net = build(c)
            with torch.no_grad():
                for p in net.parameters(): p.normal_(0, 0.3)
            net.eval()
            def seq(n, length): return torch.randn((3, length, n) if c["BatchFirst"] else (length, 3, n), requires_grad=True)
            q = seq(8, c["L"])
            k = q if c["Self"] else seq(c["KDim"] or 8, c["S"])
            v = q if c["Self"] else (seq(c["VDim"] or 8, c["S"]) if c["Kind"] == "mha" else k)
            d = {"attn_mask": (torch.rand(c["L"], c["S"]) < 0.3).float(), "padding": torch.zeros(3, c["S"])}
            d["attn_mask"][:, 0] = 0
            if c["Mask"] == "float3d": d["attn_mask"] = torch.randn(3 * 2, c["L"], c["S"])
            d["padding"][1, -2:] = 1
            d["padding"][2, -1] = 1
            ys = run(net, c, d, q, k, v)
            r = [torch.randn_like(y) for y in ys]
            sum((y * w).sum() for y, w in zip(ys, r)).backward()
            torch.save(dict(net.state_dict()), f"{out}/{c['Name']}.state.pt")
            saved = {"q": q.detach(), "k": k.detach(), "v": v.detach(), "grad.q": q.grad, **d}
            if not c["Self"]: saved["grad.k"] = k.grad
            if c["Kind"] == "mha" and not c["Self"]: saved["grad.v"] = v.grad
            saved.update({"grad." + n: p.grad for n, p in net.named_parameters()})
            saved.update({f"y{i}": y.detach() for i, y in enumerate(ys)})
            saved.update({f"r{i}": w for i, w in enumerate(r)})
            torch.save(saved, f"{out}/{c['Name']}.data.pt")
        """;

    private static readonly Lazy<string> s_reference = new(() => PythonTorch.RunInNewFolder("attention", Reference, JsonSerializer.Serialize(Configs)));

    public static IEnumerable<object[]> Names() => Configs.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Attention_MatchesPyTorch_ForwardGradientsExportAndStateDict(string name)
    {
        var c = Configs.Single(x => x.Name == name);
        var block = Create(c);
        var state = Path.Combine(s_reference.Value, name + ".state.pt");
        StateDicts.Load(block, state);   // strict: PyTorch's keys and shapes
        CollectionAssert.AreEqual(StateDicts.Read(state).Select(e => e.Key).ToList(), block.state_dict().Keys.ToList(), $"{name}: PyTorch's state-dict key order");
        block.eval();
        var data = TensorFiles.LoadDict(Path.Combine(s_reference.Value, name + ".data.pt"));
        var q = data["q"].detach().requires_grad_(true);
        var k = c.Self ? q : data["k"].detach().requires_grad_(true);
        var v = c.Self ? q : c.Kind == "mha" ? data["v"].detach().requires_grad_(true) : k;

        var outputs = Run(block, c, Value.Eager(q), Value.Eager(k), Value.Eager(v), MaskOf(c, data["attn_mask"]), PaddingOf(c, data["padding"]));
        Assert.AreEqual(data.Keys.Count(key => key.StartsWith('y')), outputs.Count, $"{name}: output count");
        for (int i = 0; i < outputs.Count; i++) AssertClose(data[$"y{i}"], outputs[i].Tensor, $"{name}: output {i}");
        outputs.Select((y, i) => (y.Tensor * data[$"r{i}"]).sum()).Aggregate((a, b) => a + b).backward();
        AssertClose(data["grad.q"], q.grad!, $"{name}: grad of the query");
        if (!c.Self) AssertClose(data["grad.k"], k.grad!, $"{name}: grad of the key");
        if (c.Kind == "mha" && !c.Self) AssertClose(data["grad.v"], v.grad!, $"{name}: grad of the value");
        foreach (var (key, parameter) in block.named_parameters())
            AssertClose(data["grad." + key], parameter.grad!, $"{name}: grad {key}");

        AssertExportsAtOtherLengths(block, c);
        AssertPyTorchLoadsOurs(block, c, data);
    }

    private static Block Create(Config c) => c.Kind switch
    {
        "mha" => new MultiheadAttention(E, Heads, 0.1, c.Bias, c.KDim == 0 ? null : c.KDim, c.VDim == 0 ? null : c.VDim, c.BatchFirst),
        "enc" => EncoderLayer(c),
        "dec" => DecoderLayer(c),
        "encstack" => new TransformerEncoder(EncoderLayer(c), c.Layers, c.FinalNorm ? new LayerNorm(E) : null),
        _ => new TransformerDecoder(DecoderLayer(c), c.Layers, c.FinalNorm ? new LayerNorm(E) : null),
    };

    private static TransformerEncoderLayer EncoderLayer(Config c) => new(E, Heads, 16, 0.1, c.Activation, batchFirst: c.BatchFirst, normFirst: c.NormFirst);

    private static TransformerDecoderLayer DecoderLayer(Config c) => new(E, Heads, 16, 0.1, c.Activation, batchFirst: c.BatchFirst, normFirst: c.NormFirst);

    /// <summary>The attention mask as the test's data holds it (bool masks as 0/1): bool or float; causal masks are the flag, not a tensor.</summary>
    private static Value? MaskOf(Config c, Tensor stored) => c.Mask switch
    {
        "bool" => Value.Eager(stored.gt(0.5)),
        "float3d" => Value.Eager(stored),
        _ => null,
    };

    private static Value? PaddingOf(Config c, Tensor stored) => c.Padding ? Value.Eager(stored.gt(0.5)) : null;

    /// <summary>The block's forward with PyTorch's arguments for this configuration.</summary>
    private static IReadOnlyList<Value> Run(Block block, Config c, Value q, Value k, Value v, Value? mask, Value? padding)
    {
        var causal = c.Mask == "causal";
        switch (block)
        {
            case MultiheadAttention mha:
                var (y, w) = mha.Attend(q, k, v, padding, c.NeedWeights, mask, c.Average, causal);
                return w is null ? [y] : [y, w];
            case TransformerEncoderLayer layer: return [layer.Encode(q, mask, padding, causal)];
            case TransformerEncoder encoder: return [encoder.Encode(q, mask, padding, causal)];
            case TransformerDecoderLayer layer: return [layer.Decode(q, k, mask, memoryKeyPaddingMask: padding, tgtIsCausal: causal)];
            case TransformerDecoder decoder: return [decoder.Decode(q, k, mask, memoryKeyPaddingMask: padding, tgtIsCausal: causal)];
            default: throw new AssertFailedException($"no forward for {block.GetType().Name}");
        }
    }

    /// <summary>The block with its masks as graph inputs (0/1 floats made bool in the graph), for export.</summary>
    private sealed class Harness : MultiOutputBlock
    {
        private readonly Block _block;
        private readonly Config _config;

        public Harness(Block block, Config config, int outputs) : base("Harness") => (_block, _config, OutputCount) = (Register("m", block), config, outputs);

        public override int InputCount => Inputs(_config).Count;

        public override int OutputCount { get; }

        protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
        {
            var named = Inputs(_config).Select(i => i.Name).Zip(inputs).ToDictionary(p => p.First, p => p.Second);
            var q = named["q"];
            var k = named.GetValueOrDefault("k") ?? q;
            var v = named.GetValueOrDefault("v") ?? k;
            var mask = _config.Mask switch { "bool" => named["mask"] > 0.5, "float3d" => named["mask"], _ => null };
            var padding = _config.Padding ? named["padding"] > 0.5 : null;
            return Run(_block, _config, q, k, v, mask, padding);
        }
    }

    /// <summary>The harness's graph inputs: the sequences with named batch, L and S dimensions, then the masks.</summary>
    private static List<InputSpec> Inputs(Config c)
    {
        Dim[] Sequence(string length, long features) => c.BatchFirst ? [Dim.Named("batch"), Dim.Named(length), features] : [Dim.Named(length), Dim.Named("batch"), features];
        var inputs = new List<InputSpec> { InputSpec.Float32("q", Sequence("L", E)) };
        if (!c.Self) inputs.Add(InputSpec.Float32("k", Sequence("S", c.KDim == 0 ? E : c.KDim)));
        if (c.Kind == "mha" && !c.Self) inputs.Add(InputSpec.Float32("v", Sequence("S", c.VDim == 0 ? E : c.VDim)));
        var s = c.Self ? "L" : "S";
        if (c.Mask == "bool") inputs.Add(InputSpec.Float32("mask", [Dim.Named("L"), Dim.Named(s)]));
        if (c.Mask == "float3d") inputs.Add(InputSpec.Float32("mask", [Dim.Named("batch_heads"), Dim.Named("L"), Dim.Named(s)]));
        if (c.Padding) inputs.Add(InputSpec.Float32("padding", [Dim.Named("batch"), Dim.Named(s)]));
        return inputs;
    }

    private static void AssertExportsAtOtherLengths(Block block, Config c)
    {
        var outputs = c.Kind == "mha" && c.NeedWeights ? 2 : 1;
        var harness = new Harness(block, c, outputs);
        harness.eval();
        var specs = Inputs(c);
        var model = OnnxExporter.Export(harness, new ExportOptions(specs[0], [.. specs.Skip(1)]) { OutputNames = [.. new[] { "y", "weights" }.Take(outputs)] });
        using var session = OnnxModelSession.Open(model.ToByteArray());
        var imported = Import.OnnxImporter.Import(model);   // the export read back into a block
        foreach (var (l, s) in new[] { (3, 9), (11, 4) })
        {
            random.manual_seed(l);
            var length = c.Self ? l : s;
            Tensor Sequence(long steps, long features) => c.BatchFirst ? randn(2, steps, features) : randn(steps, 2, features);
            var feeds = specs.Select(spec => spec.Name switch
            {
                "q" => Sequence(l, E),
                "k" => Sequence(s, c.KDim == 0 ? E : c.KDim),
                "v" => Sequence(s, c.VDim == 0 ? E : c.VDim),
                "mask" when c.Mask == "bool" => rand(l, length).lt(0.3).index_put_(tensor(false), TensorIndex.Colon, 0).to(ScalarType.Float32),
                "mask" => randn(2 * Heads, l, length),
                _ => zeros(2, length).index_put_(tensor(1f), 1, -1),
            }).ToList();
            using var noGrad = no_grad();
            var ours = harness.forward_all([.. feeds]);
            var theirs = session.Run([.. specs.Zip(feeds).Select(p => new OnnxBridge.Onnx.TestCases.NamedTensor(p.First.Name, TensorConvert.ToHost(p.Second)))]);
            var reimported = imported.forward_all([.. feeds]);
            for (int i = 0; i < outputs; i++)
            {
                AssertClose(ours[i], TensorConvert.ToTorch(theirs[i].Tensor), $"{c.Name}: ONNX Runtime at L={l}, S={length}, output {i}");
                AssertClose(ours[i], reimported[i], $"{c.Name}: imported, eager, at L={l}, S={length}, output {i}");
            }
        }
    }

    private const string LoadOurs = "import json, sys, torch\n" + Module + "\n" + """
        c = json.loads(sys.argv[3])
        net = build(c)
        net.load_state_dict(torch.load(sys.argv[1]), strict=True)
        net.eval()
        d = torch.load(sys.argv[2])
        ys = run(net, c, d, d["q"], d["k"], d["v"])
        print(max((y - d[f"y{i}"]).abs().max().item() for i, y in enumerate(ys)))
        """;

    /// <summary>Our parameters, moved off PyTorch's, saved; PyTorch loads them strictly and computes what we compute.</summary>
    private static void AssertPyTorchLoadsOurs(Block block, Config c, IReadOnlyDictionary<string, Tensor> data)
    {
        using var temp = new TempFolder();
        using (no_grad())
        {
            foreach (var p in block.parameters()) p.add_(0.01);
            StateDicts.Save(block, temp.File("ours.pt"));
            var (q, k, v) = (data["q"], c.Self ? data["q"] : data["k"], c.Self ? data["q"] : c.Kind == "mha" ? data["v"] : data["k"]);
            var outputs = Run(block, c, Value.Eager(q), Value.Eager(k), Value.Eager(v), MaskOf(c, data["attn_mask"]), PaddingOf(c, data["padding"]));
            var saved = new Dictionary<string, Tensor>(outputs.Select((y, i) => KeyValuePair.Create($"y{i}", y.Tensor)))
            {
                ["q"] = q, ["k"] = k, ["v"] = v, ["attn_mask"] = data["attn_mask"], ["padding"] = data["padding"],
            };
            TensorFiles.SaveDict(temp.File("outputs.pt"), saved);
        }
        var worst = double.Parse(PythonTorch.Run(LoadOurs, temp.File("ours.pt"), temp.File("outputs.pt"), JsonSerializer.Serialize(c)).Trim(), CultureInfo.InvariantCulture);
        Assert.IsTrue(worst <= 2e-5, $"{c.Name}: PyTorch with our state dict differs by {worst}");
    }
}
