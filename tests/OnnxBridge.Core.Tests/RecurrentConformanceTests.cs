using System.Globalization;
using System.Text.Json;
using Google.Protobuf;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Our LSTM, GRU and RNN against real PyTorch's (Debian's python3-torch 1.13): LSTM in 12
/// configurations, GRU and RNN in 6 each — layers, directions, batch_first, bias, dropout, initial
/// states, ReLU, sequence lengths 1 and 17. PyTorch's state dict loads strictly; the forward and the
/// gradients (of the input and every parameter) agree eagerly — through the layer and, with initial
/// states, through the step-by-step Ops function too; the export (states as graph inputs) runs under
/// ONNX Runtime at sequence lengths 4 and 23 (and imports and exports again); and PyTorch strictly
/// loads our state dict back with equal outputs. Tolerance: |Δ| ≤ 1e-5 + 1e-4·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RecurrentConformanceTests
{
    private sealed record Config(string Name, string Kind, int Layers, bool Bidirectional, bool BatchFirst, bool Bias, double Dropout, int Steps, bool States, string Nonlinearity = "tanh");

    private static readonly Config[] Configs =
    [
        new("lstm-l1", "LSTM", 1, false, false, true, 0, 17, false),
        new("lstm-l1-seq1", "LSTM", 1, false, false, true, 0, 1, false),
        new("lstm-l2", "LSTM", 2, false, false, true, 0, 17, false),
        new("lstm-l1-bi", "LSTM", 1, true, false, true, 0, 17, false),
        new("lstm-l2-bi", "LSTM", 2, true, false, true, 0, 17, false),
        new("lstm-l1-batch-first", "LSTM", 1, false, true, true, 0, 17, false),
        new("lstm-l2-bi-batch-first", "LSTM", 2, true, true, true, 0, 17, false),
        new("lstm-l1-no-bias", "LSTM", 1, false, false, false, 0, 17, false),
        new("lstm-l2-dropout", "LSTM", 2, false, false, true, 0.3, 17, false),
        new("lstm-l1-bi-seq1", "LSTM", 1, true, false, true, 0, 1, false),
        new("lstm-l2-states", "LSTM", 2, false, false, true, 0, 17, true),
        new("lstm-l2-bi-states-seq1", "LSTM", 2, true, false, true, 0, 1, true),
        new("gru-l1", "GRU", 1, false, false, true, 0, 17, false),
        new("gru-l2-bi", "GRU", 2, true, false, true, 0, 17, false),
        new("gru-l1-batch-first-seq1", "GRU", 1, false, true, true, 0, 1, false),
        new("gru-l1-no-bias", "GRU", 1, false, false, false, 0, 17, false),
        new("gru-l2-states", "GRU", 2, false, false, true, 0, 17, true),
        new("gru-l2-bi-batch-first", "GRU", 2, true, true, true, 0, 17, false),
        new("rnn-l1", "RNN", 1, false, false, true, 0, 17, false),
        new("rnn-l2-bi", "RNN", 2, true, false, true, 0, 17, false),
        new("rnn-l1-relu", "RNN", 1, false, false, true, 0, 17, false, "relu"),
        new("rnn-l2-bi-relu-batch-first", "RNN", 2, true, true, true, 0, 17, false, "relu"),
        new("rnn-l1-seq1-no-bias", "RNN", 1, false, false, false, 0, 1, false),
        new("rnn-l2-states", "RNN", 2, false, false, true, 0, 17, true),
    ];

    private const int Input = 5, Hidden = 7;

    private static void AssertClose(Tensor expected, Tensor actual, string what) => TensorAssert.Close(expected, actual, what, relative: 1e-4);

    private const string Module = """
        def module(c):
            extra = {"nonlinearity": c["Nonlinearity"]} if c["Kind"] == "RNN" else {}
            return getattr(torch.nn, c["Kind"])(5, 7, num_layers=c["Layers"], bias=c["Bias"], batch_first=c["BatchFirst"], dropout=c["Dropout"],
                                                 bidirectional=c["Bidirectional"], **extra)
        def outputs(result):
            y, states = result
            return [y, *states] if isinstance(states, tuple) else [y, states]
        """;

    /// <summary>For each configuration: the state dict, the input, the initial states, the loss weights, PyTorch's outputs and gradients.</summary>
    private const string Reference = "import json, sys, torch\n" + Module + "\n" + """
        out = sys.argv[1]
        for c in json.loads(sys.argv[2]):
            torch.manual_seed(7)
            net = module(c)
            net.eval()
            d = 2 if c["Bidirectional"] else 1
            x = torch.randn((3, c["Steps"], 5) if c["BatchFirst"] else (c["Steps"], 3, 5), requires_grad=True)
            h0 = torch.randn(c["Layers"] * d, 3, 7)
            c0 = torch.randn(c["Layers"] * d, 3, 7)
            initial = ((h0, c0) if c["Kind"] == "LSTM" else h0) if c["States"] else None
            ys = outputs(net(x, initial) if initial is not None else net(x))
            r = [torch.randn_like(t) for t in ys]
            sum((y * w).sum() for y, w in zip(ys, r)).backward()
            torch.save(dict(net.state_dict()), f"{out}/{c['Name']}.state.pt")
            saved = {"x": x.detach(), "h0": h0, "c0": c0, "grad.x": x.grad, **{"grad." + k: p.grad for k, p in net.named_parameters()}}
            saved.update({f"y{i}": y.detach() for i, y in enumerate(ys)})
            saved.update({f"r{i}": w for i, w in enumerate(r)})
            torch.save(saved, f"{out}/{c['Name']}.data.pt")
        """;

    private static readonly Lazy<string> s_reference = new(() => PythonTorch.RunInNewFolder("recurrent", Reference, JsonSerializer.Serialize(Configs)));

    public static IEnumerable<object[]> Names() => Configs.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Recurrent_MatchesPyTorch_ForwardGradientsExportAndStateDict(string name)
    {
        var c = Configs.Single(x => x.Name == name);
        var layer = Create(c);
        var state = Path.Combine(s_reference.Value, name + ".state.pt");
        StateDicts.Load(layer, state);   // strict: PyTorch's keys and shapes
        CollectionAssert.AreEqual(StateDicts.Read(state).Select(e => e.Key).ToList(), layer.state_dict().Keys.ToList(), $"{name}: PyTorch's state-dict key order");
        layer.eval();
        var data = TensorFiles.LoadDict(Path.Combine(s_reference.Value, name + ".data.pt"));
        Tensor[] states = !c.States ? [] : c.Kind == "LSTM" ? [data["h0"], data["c0"]] : [data["h0"]];

        // The layer (libtorch's kernel eagerly), and with initial states also the Ops function (the step-by-step recurrence).
        var paths = new List<(string Path, Func<Tensor, IReadOnlyList<Tensor>> Run)> { ("layer", x => layer.forward_all([x, .. states])) };
        if (c.States) paths.Add(("Ops function", x => WithStates(layer, c, x, data["h0"], data["c0"])));
        foreach (var (path, run) in paths)
        {
            layer.zero_grad();
            var x = data["x"].detach().requires_grad_(true);
            var outputs = run(x);
            Assert.AreEqual(layer.OutputCount, outputs.Count);
            for (int i = 0; i < outputs.Count; i++) AssertClose(data[$"y{i}"], outputs[i], $"{name}, {path}: output {i}");
            outputs.Select((y, i) => (y * data[$"r{i}"]).sum()).Aggregate((a, b) => a + b).backward();
            AssertClose(data["grad.x"], x.grad!, $"{name}, {path}: grad of the input");
            foreach (var (key, parameter) in layer.named_parameters())
                AssertClose(data["grad." + key], parameter.grad!, $"{name}, {path}: grad {key}");
        }

        AssertExportsAtOtherLengths(layer, c);
        AssertPyTorchLoadsOurs(layer, c, data["x"]);
    }

    private static RecurrentLayer Create(Config c) => c.Kind switch
    {
        "LSTM" => new LSTM(Input, Hidden, c.Layers, c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional),
        "GRU" => new GRU(Input, Hidden, c.Layers, c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional),
        _ => new RNN(Input, Hidden, c.Layers, c.Nonlinearity, c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional),
    };

    /// <summary>Given initial states go through the <see cref="Ops"/> function with the layer's own parameters (time-major configurations).</summary>
    private static IReadOnlyList<Tensor> WithStates(RecurrentLayer layer, Config c, Tensor x, Tensor h0, Tensor c0)
    {
        var p = layer.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        var layers = Enumerable.Range(0, c.Layers).Select(l => (IReadOnlyList<RecurrentWeights>)[.. Enumerable.Range(0, c.Bidirectional ? 2 : 1).Select(d =>
        {
            var s = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
            return new RecurrentWeights(Value.Eager(p["weight_ih" + s]), Value.Eager(p["weight_hh" + s]),
                c.Bias ? Value.Eager(p["bias_ih" + s]) : null, c.Bias ? Value.Eager(p["bias_hh" + s]) : null);
        })]).ToList();
        Assert.IsFalse(c.BatchFirst, "states are tested time-major");
        return c.Kind switch
        {
            "LSTM" => Ops.Lstm(Value.Eager(x), layers, Value.Eager(h0), Value.Eager(c0)) is var (y, h, cn) ? [y.Tensor, h.Tensor, cn.Tensor] : [],
            "GRU" => Ops.Gru(Value.Eager(x), layers, Value.Eager(h0)) is var (y, h) ? [y.Tensor, h.Tensor] : [],
            _ => Ops.Rnn(Value.Eager(x), layers, c.Nonlinearity == "relu", Value.Eager(h0)) is var (y, h) ? [y.Tensor, h.Tensor] : [],
        };
    }

    /// <summary>The export (with the initial states as graph inputs where the configuration has them) against the eager layer at two new lengths.</summary>
    private static void AssertExportsAtOtherLengths(RecurrentLayer layer, Config c)
    {
        Dim[] shape = c.BatchFirst ? [Dim.Named("batch"), Dim.Named("seq"), Input] : [Dim.Named("seq"), Dim.Named("batch"), Input];
        var stateNames = !c.States ? [] : c.Kind == "LSTM" ? new[] { "h0", "c0" } : ["h0"];
        var stateRows = c.Layers * (c.Bidirectional ? 2 : 1);
        InputSpec[] specs = [InputSpec.Float32("x", shape), .. stateNames.Select(n => InputSpec.Float32(n, stateRows, Dim.Named("batch"), Hidden))];
        string[] names = [.. new[] { "output", "h_n", "c_n" }.Take(layer.OutputCount)];
        var model = OnnxExporter.Export(layer, new ExportOptions(specs[0], specs[1..]) { OutputNames = names });
        using var session = OnnxModelSession.Open(model.ToByteArray());
        // The export imported again (the ONNX node back to the op layer) and exported once more.
        var imported = Import.OnnxImporter.Import(model);
        using var again = OnnxModelSession.Open(OnnxExporter.Export(imported, imported.ExportOptions()).ToByteArray());
        foreach (var steps in new[] { 4, 23 })
        {
            random.manual_seed(steps);
            Tensor[] inputs = [c.BatchFirst ? randn(2, steps, Input) : randn(steps, 2, Input), .. stateNames.Select(_ => randn(stateRows, 2, Hidden))];
            IReadOnlyList<Onnx.TestCases.NamedTensor> feeds = [.. specs.Zip(inputs, (spec, t) => new Onnx.TestCases.NamedTensor(spec.Name, TensorConvert.ToHost(t)))];
            var ours = layer.forward_all(inputs);
            var theirs = session.Run(feeds);
            var reimported = imported.forward_all(inputs);
            var twice = again.Run(feeds);
            for (int i = 0; i < names.Length; i++)
            {
                AssertClose(ours[i], TensorConvert.ToTorch(theirs[i].Tensor), $"{c.Name}: ONNX Runtime at sequence length {steps}, output {i}");
                AssertClose(ours[i], reimported[i], $"{c.Name}: imported, eager, at sequence length {steps}, output {i}");
                AssertClose(ours[i], TensorConvert.ToTorch(twice[i].Tensor), $"{c.Name}: imported and exported again, at sequence length {steps}, output {i}");
            }
        }
    }

    private const string LoadOurs = "import json, sys, torch\n" + Module + "\n" + """
        c = json.loads(sys.argv[3])
        net = module(c)
        net.load_state_dict(torch.load(sys.argv[1]), strict=True)
        net.eval()
        data = torch.load(sys.argv[2])
        ys = outputs(net(data["x"]))
        print(max((y - data[f"y{i}"]).abs().max().item() for i, y in enumerate(ys)))
        """;

    private static void AssertPyTorchLoadsOurs(RecurrentLayer layer, Config c, Tensor x)
    {
        using var temp = new TempFolder();
        StateDicts.Save(layer, temp.File("ours.pt"));
        using (no_grad())
        {
            var outputs = layer.forward_all(x);
            TensorFiles.SaveDict(temp.File("outputs.pt"), new Dictionary<string, Tensor>(outputs.Select((y, i) => KeyValuePair.Create($"y{i}", y))) { ["x"] = x });
        }
        var worst = double.Parse(PythonTorch.Run(LoadOurs, temp.File("ours.pt"), temp.File("outputs.pt"), JsonSerializer.Serialize(c)).Trim(), CultureInfo.InvariantCulture);
        Assert.IsTrue(worst <= 1e-5, $"{c.Name}: PyTorch with our state dict differs by {worst}");
    }
}
