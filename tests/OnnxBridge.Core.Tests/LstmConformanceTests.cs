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
/// Our LSTM against real PyTorch's (Debian's python3-torch 1.13) in 12 configurations — layers,
/// directions, batch_first, bias, dropout, initial states, sequence lengths 1 and 17: PyTorch's
/// state dict loads strictly, the forward and the gradients (of the input and every parameter) agree
/// eagerly, the export runs under ONNX Runtime at sequence lengths other than any seen before (and
/// imports and exports again), and PyTorch strictly loads our state dict back with equal outputs. Tolerance: |Δ| ≤ 1e-5 + 1e-4·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LstmConformanceTests
{
    private sealed record Config(string Name, int Layers, bool Bidirectional, bool BatchFirst, bool Bias, double Dropout, int Steps, bool States);

    private static readonly Config[] Configs =
    [
        new("l1", 1, false, false, true, 0, 17, false),
        new("l1-seq1", 1, false, false, true, 0, 1, false),
        new("l2", 2, false, false, true, 0, 17, false),
        new("l1-bi", 1, true, false, true, 0, 17, false),
        new("l2-bi", 2, true, false, true, 0, 17, false),
        new("l1-batch-first", 1, false, true, true, 0, 17, false),
        new("l2-bi-batch-first", 2, true, true, true, 0, 17, false),
        new("l1-no-bias", 1, false, false, false, 0, 17, false),
        new("l2-dropout", 2, false, false, true, 0.3, 17, false),
        new("l1-bi-seq1", 1, true, false, true, 0, 1, false),
        new("l2-states", 2, false, false, true, 0, 17, true),
        new("l2-bi-states-seq1", 2, true, false, true, 0, 1, true),
    ];

    private const int Input = 5, Hidden = 7, Batch = 3;

    /// <summary>For each configuration: the state dict, the input, the initial states, the loss weights, PyTorch's outputs and gradients.</summary>
    private const string Reference = """
        import json, sys, torch
        out = sys.argv[1]
        for c in json.loads(sys.argv[2]):
            torch.manual_seed(7)
            lstm = torch.nn.LSTM(5, 7, num_layers=c["Layers"], bias=c["Bias"], batch_first=c["BatchFirst"], dropout=c["Dropout"], bidirectional=c["Bidirectional"])
            lstm.eval()
            d = 2 if c["Bidirectional"] else 1
            x = torch.randn((3, c["Steps"], 5) if c["BatchFirst"] else (c["Steps"], 3, 5), requires_grad=True)
            h0 = torch.randn(c["Layers"] * d, 3, 7)
            c0 = torch.randn(c["Layers"] * d, 3, 7)
            y, (h, cn) = lstm(x, (h0, c0)) if c["States"] else lstm(x)
            r = [torch.randn_like(t) for t in (y, h, cn)]
            loss = (y * r[0]).sum() + (h * r[1]).sum() + (cn * r[2]).sum()
            loss.backward()
            torch.save(dict(lstm.state_dict()), f"{out}/{c['Name']}.state.pt")
            grads = {"grad.x": x.grad, **{"grad." + k: p.grad for k, p in lstm.named_parameters()}}
            torch.save({"x": x.detach(), "h0": h0, "c0": c0, "r0": r[0], "r1": r[1], "r2": r[2], "y": y.detach(), "h": h.detach(), "c": cn.detach(), **grads}, f"{out}/{c['Name']}.data.pt")
        """;

    private static readonly Lazy<string> s_reference = new(() =>
    {
        var folder = Path.Combine(Path.GetTempPath(), "onnxbridge-tests", "lstm-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        PythonTorch.Run(Reference, folder, JsonSerializer.Serialize(Configs));
        return folder;
    });

    public static IEnumerable<object[]> Names() => Configs.Select(c => new object[] { c.Name });

    [TestMethod]
    [DynamicData(nameof(Names))]
    public void Lstm_MatchesPyTorch_ForwardGradientsExportAndStateDict(string name)
    {
        var c = Configs.Single(x => x.Name == name);
        var lstm = new LSTM(Input, Hidden, c.Layers, c.Bias, c.BatchFirst, c.Dropout, c.Bidirectional);
        StateDicts.Load(lstm, Path.Combine(s_reference.Value, name + ".state.pt"));   // strict: PyTorch's keys and shapes
        lstm.eval();
        var data = TensorFiles.LoadDict(Path.Combine(s_reference.Value, name + ".data.pt"));
        var x = data["x"].detach().requires_grad_(true);

        IReadOnlyList<Tensor> outputs = c.States ? WithStates(lstm, c, x, data["h0"], data["c0"]) : lstm.forward_all(x);
        AssertClose(data["y"], outputs[0], $"{name}: output");
        AssertClose(data["h"], outputs[1], $"{name}: h_n");
        AssertClose(data["c"], outputs[2], $"{name}: c_n");
        var loss = (outputs[0] * data["r0"]).sum() + (outputs[1] * data["r1"]).sum() + (outputs[2] * data["r2"]).sum();
        loss.backward();
        AssertClose(data["grad.x"], x.grad!, $"{name}: grad of the input");
        foreach (var (key, parameter) in lstm.named_parameters())
            AssertClose(data["grad." + key], parameter.grad!, $"{name}: grad {key}");

        if (!c.States) AssertExportsAtOtherLengths(lstm, c);
        AssertPyTorchLoadsOurs(lstm, c, x.detach());
    }

    /// <summary>Given initial states go through <see cref="Ops.Lstm"/> with the layer's own parameters.</summary>
    private static IReadOnlyList<Tensor> WithStates(LSTM lstm, Config c, Tensor x, Tensor h0, Tensor c0)
    {
        var p = lstm.named_parameters().ToDictionary(n => n.name, n => (Tensor)n.parameter);
        var layers = Enumerable.Range(0, c.Layers).Select(l => (IReadOnlyList<LstmWeights>)[.. Enumerable.Range(0, c.Bidirectional ? 2 : 1).Select(d =>
        {
            var s = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
            return new LstmWeights(Value.Eager(p["weight_ih" + s]), Value.Eager(p["weight_hh" + s]),
                c.Bias ? Value.Eager(p["bias_ih" + s]) : null, c.Bias ? Value.Eager(p["bias_hh" + s]) : null);
        })]).ToList();
        var (y, h, cn) = Ops.Lstm(Value.Eager(x), layers, Value.Eager(h0), Value.Eager(c0));
        return [y.Tensor, h.Tensor, cn.Tensor];
    }

    private static void AssertExportsAtOtherLengths(LSTM lstm, Config c)
    {
        Dim[] shape = c.BatchFirst ? [Dim.Named("batch"), Dim.Named("seq"), Input] : [Dim.Named("seq"), Dim.Named("batch"), Input];
        var model = OnnxExporter.Export(lstm, new ExportOptions(InputSpec.Float32("x", shape)) { OutputNames = ["output", "h_n", "c_n"] });
        using var session = OnnxModelSession.Open(model.ToByteArray());
        // The export imported again (ONNX LSTM back to the op layer) and exported once more.
        var imported = Import.OnnxImporter.Import(model);
        using var again = OnnxModelSession.Open(OnnxExporter.Export(imported, imported.ExportOptions()).ToByteArray());
        foreach (var steps in new[] { 4, 23 })
        {
            random.manual_seed(steps);
            var x = c.BatchFirst ? randn(2, steps, Input) : randn(steps, 2, Input);
            var ours = lstm.forward_all(x);
            var theirs = session.Run([new("x", TensorConvert.ToHost(x))]);
            var reimported = imported.forward_all(x);
            var twice = again.Run([new("x", TensorConvert.ToHost(x))]);
            for (int i = 0; i < 3; i++)
            {
                AssertClose(ours[i], TensorConvert.ToTorch(theirs[i].Tensor), $"{c.Name}: ONNX Runtime at sequence length {steps}, output {i}");
                AssertClose(ours[i], reimported[i], $"{c.Name}: imported, eager, at sequence length {steps}, output {i}");
                AssertClose(ours[i], TensorConvert.ToTorch(twice[i].Tensor), $"{c.Name}: imported and exported again, at sequence length {steps}, output {i}");
            }
        }
    }

    private const string LoadOurs = """
        import json, sys, torch
        c = json.loads(sys.argv[3])
        lstm = torch.nn.LSTM(5, 7, num_layers=c["Layers"], bias=c["Bias"], batch_first=c["BatchFirst"], dropout=c["Dropout"], bidirectional=c["Bidirectional"])
        lstm.load_state_dict(torch.load(sys.argv[1]), strict=True)
        lstm.eval()
        data = torch.load(sys.argv[2])
        y, (h, cn) = lstm(data["x"])
        print(max((y - data["y"]).abs().max().item(), (h - data["h"]).abs().max().item(), (cn - data["c"]).abs().max().item()))
        """;

    private static void AssertPyTorchLoadsOurs(LSTM lstm, Config c, Tensor x)
    {
        using var temp = new TempFolder();
        StateDicts.Save(lstm, temp.File("ours.pt"));
        using (no_grad())
        {
            var outputs = lstm.forward_all(x);
            TensorFiles.SaveDict(temp.File("outputs.pt"), new Dictionary<string, Tensor> { ["x"] = x, ["y"] = outputs[0], ["h"] = outputs[1], ["c"] = outputs[2] });
        }
        var worst = double.Parse(PythonTorch.Run(LoadOurs, temp.File("ours.pt"), temp.File("outputs.pt"), JsonSerializer.Serialize(c)).Trim(), CultureInfo.InvariantCulture);
        Assert.IsTrue(worst <= 1e-5, $"{c.Name}: PyTorch with our state dict differs by {worst}");
    }

    private static void AssertClose(Tensor expected, Tensor actual, string what)
    {
        Assert.IsTrue(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        var worst = (actual.detach() - expected.detach()).abs().sub(expected.detach().abs().mul(1e-4)).max().item<float>();
        Assert.IsTrue(worst <= 1e-5, $"{what}: |Δ| exceeds 1e-5 + 1e-4·|ref| by up to {worst}");
    }
}
