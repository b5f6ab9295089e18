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
/// LSTMCell, GRUCell and RNNCell (tanh, relu; with and without bias) against real PyTorch's:
/// state dicts load both ways strictly, the step's outputs and the gradients of the inputs, the
/// states and every parameter agree, and the export agrees under ONNX Runtime at another batch size.
/// Tolerance: |Δ| ≤ 1e-5 + 1e-4·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class RecurrentCellConformanceTests
{
    /// <summary>PyTorch's cells by the names the tests use.</summary>
    private const string Kinds = """
        import sys, torch
        kinds = {"lstm": lambda: torch.nn.LSTMCell(5, 7), "lstm-no-bias": lambda: torch.nn.LSTMCell(5, 7, bias=False), "gru": lambda: torch.nn.GRUCell(5, 7),
                 "rnn": lambda: torch.nn.RNNCell(5, 7), "rnn-relu": lambda: torch.nn.RNNCell(5, 7, nonlinearity="relu")}
        """;

    private const string Reference = Kinds + "\n" + """
        out = sys.argv[1]
        for name, make in kinds.items():
            torch.manual_seed(11)
            cell = make()
            x, h, c = torch.randn(3, 5, requires_grad=True), torch.randn(3, 7, requires_grad=True), torch.randn(3, 7, requires_grad=True)
            result = cell(x, (h, c)) if name.startswith("lstm") else cell(x, h)
            ys = list(result) if isinstance(result, tuple) else [result]
            r = [torch.randn_like(y) for y in ys]
            sum((y * w).sum() for y, w in zip(ys, r)).backward()
            torch.save(dict(cell.state_dict()), f"{out}/{name}.state.pt")
            saved = {"x": x.detach(), "h": h.detach(), "c": c.detach(), "grad.x": x.grad, "grad.h": h.grad,
                     **{"grad." + k: p.grad for k, p in cell.named_parameters()}}
            if c.grad is not None: saved["grad.c"] = c.grad
            saved.update({f"y{i}": y.detach() for i, y in enumerate(ys)})
            saved.update({f"r{i}": w for i, w in enumerate(r)})
            torch.save(saved, f"{out}/{name}.data.pt")
        """;

    /// <summary>Loads our state dict strictly into PyTorch's own cell of the same kind and prints its keys.</summary>
    private const string LoadOurs = Kinds + "\n" + """
        cell = kinds[sys.argv[2]]()
        cell.load_state_dict(torch.load(sys.argv[1]), strict=True)
        print(",".join(cell.state_dict().keys()))
        """;

    private static readonly Lazy<string> s_reference = new(() => PythonTorch.RunInNewFolder("cells", Reference));

    private static RecurrentCell Create(string name) => name switch
    {
        "lstm" => new LSTMCell(5, 7),
        "lstm-no-bias" => new LSTMCell(5, 7, bias: false),
        "gru" => new GRUCell(5, 7),
        "rnn" => new RNNCell(5, 7),
        _ => new RNNCell(5, 7, nonlinearity: "relu"),
    };

    [TestMethod]
    [DataRow("lstm")]
    [DataRow("lstm-no-bias")]
    [DataRow("gru")]
    [DataRow("rnn")]
    [DataRow("rnn-relu")]
    public void Cell_MatchesPyTorch_StepGradientsAndExport(string name)
    {
        var cell = Create(name);
        StateDicts.Load(cell, Path.Combine(s_reference.Value, name + ".state.pt"));
        var data = TensorFiles.LoadDict(Path.Combine(s_reference.Value, name + ".data.pt"));
        string[] inputNames = cell.InputCount == 3 ? ["x", "h", "c"] : ["x", "h"];
        var inputs = inputNames.Select(n => data[n].detach().requires_grad_(true)).ToArray();

        var outputs = cell.forward_all(inputs);
        for (int i = 0; i < outputs.Length; i++) TensorAssert.Close(data[$"y{i}"], outputs[i], $"{name}: output {i}", relative: 1e-4);
        outputs.Select((y, i) => (y * data[$"r{i}"]).sum()).Aggregate((a, b) => a + b).backward();
        for (int i = 0; i < inputs.Length; i++) TensorAssert.Close(data["grad." + inputNames[i]], inputs[i].grad!, $"{name}: grad {inputNames[i]}", relative: 1e-4);
        foreach (var (key, parameter) in cell.named_parameters()) TensorAssert.Close(data["grad." + key], parameter.grad!, $"{name}: grad {key}", relative: 1e-4);

        // Exported, at batch 4 (PyTorch's data had 3).
        var specs = inputNames.Select(n => InputSpec.Float32(n, Dim.Named("batch"), n == "x" ? 5 : 7)).ToArray();
        var model = OnnxExporter.Export(cell, new ExportOptions(specs[0], specs[1..]) { OutputNames = [.. Enumerable.Range(0, cell.OutputCount).Select(i => $"y{i}")] });
        using var session = OnnxModelSession.Open(model.ToByteArray());
        random.manual_seed(4);
        var probe = inputNames.Select(n => randn(4, n == "x" ? 5 : 7)).ToArray();
        var ours = cell.forward_all(probe);
        var theirs = session.Run([.. inputNames.Select((n, i) => new Onnx.TestCases.NamedTensor(n, TensorConvert.ToHost(probe[i])))]);
        for (int i = 0; i < ours.Length; i++) TensorAssert.Close(ours[i], TensorConvert.ToTorch(theirs[i].Tensor), $"{name}: ONNX Runtime, output {i}", relative: 1e-4);

        // PyTorch loads ours strictly.
        using var temp = new TempFolder();
        StateDicts.Save(cell, temp.File("ours.pt"));
        var keys = PythonTorch.Run(LoadOurs, temp.File("ours.pt"), name).Trim();
        Assert.AreEqual(cell.HasBias ? "weight_ih,weight_hh,bias_ih,bias_hh" : "weight_ih,weight_hh", keys, "PyTorch's keys, in PyTorch's order");
    }
}
