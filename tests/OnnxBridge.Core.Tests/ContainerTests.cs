using System.Text.Json;
using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>ModuleList and ModuleDict keep PyTorch's keys: PyTorch's own class strict-loads our state dict and gives our outputs.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ContainerTests
{
    private const string Script = """
        import json, sys, torch
        from torch import nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(4, 8), nn.Linear(8, 8)])
                self.heads = nn.ModuleDict({"score": nn.Linear(8, 1), "classes": nn.Linear(8, 3)})
                self.norm = nn.LayerNorm(8)

            def forward(self, x):
                for layer in self.layers:
                    x = torch.relu(layer(x))
                x = self.norm(x)
                return self.heads["score"](x), self.heads["classes"](x)

        net = Net()
        missing, unexpected = net.load_state_dict(torch.load(sys.argv[1]), strict=True)
        data = torch.load(sys.argv[2])
        score, classes = net(data["x"])
        print(json.dumps({"keys": list(net.state_dict().keys()),
                          "score": (score - data["score"]).abs().max().item(),
                          "classes": (classes - data["classes"]).abs().max().item()}))
        """;

    [TestMethod]
    public void ModuleListAndModuleDict_StrictLoadInPyTorch_WithPyTorchsKeysAndOutputs()
    {
        using var temp = new TempFolder();
        random.manual_seed(81);
        var net = new Heads();
        net.eval();
        using var x = randn(5, 4);
        var outputs = net.forward_all(x);
        StateDicts.Save(net, temp.File("net.pt"));
        StateDicts.Write(temp.File("data.pt"), [("x", TensorConvert.ToHost(x)), ("score", TensorConvert.ToHost(outputs[0])), ("classes", TensorConvert.ToHost(outputs[1]))]);

        using var report = JsonDocument.Parse(PythonTorch.Run(Script, temp.File("net.pt"), temp.File("data.pt")));

        CollectionAssert.AreEqual(net.state_dict().Keys.ToArray(), report.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToArray());
        Assert.IsTrue(report.RootElement.GetProperty("score").GetDouble() <= 1e-5, report.RootElement.ToString());
        Assert.IsTrue(report.RootElement.GetProperty("classes").GetDouble() <= 1e-5, report.RootElement.ToString());
    }

    [TestMethod]
    public void Containers_Export_RoundTripThroughArchitectureFiles_AndRefuseToBeCalled()
    {
        random.manual_seed(82);
        var net = new Heads();
        var model = OnnxExporter.Export(net, new ExportOptions(InputSpec.Float32("x", Dim.Named("batch"), 4)) { OutputNames = ["score", "classes"] });
        using var session = OnnxModelSession.Open(Google.Protobuf.MessageExtensions.ToByteArray(model));
        net.eval();
        using var x = randn(3, 4);
        var eager = net.forward_all(x);
        var run = session.Run([new Onnx.TestCases.NamedTensor("x", TensorConvert.ToHost(x))]);
        for (int i = 0; i < 2; i++) Assert.IsTrue(TensorComparer.Compare(run[i].Name, TensorConvert.ToHost(eager[i]), run[i].Tensor, Tolerance.Float32).Passed);

        var containers = new Sequential(new ModuleList(new Linear(2, 2), new ReLU()), new ModuleDict([new("a", new Linear(2, 3))]));
        Assert.AreEqual(containers.ToString(), ArchitectureJson.FromJson(ArchitectureJson.ToJson(containers)).ToString());
        var error = Assert.ThrowsExactly<InvalidOperationException>(() => new ModuleList(new ReLU()).forward(ones(1)));
        StringAssert.Contains(error.Message, "a ModuleList is a container, not a network");
    }

    /// <summary>The PyTorch class of the script above, as a block.</summary>
    private sealed class Heads : MultiOutputBlock
    {
        private readonly ModuleList _layers;
        private readonly ModuleDict _heads;
        private readonly LayerNorm _norm;

        public Heads() : base(nameof(Heads))
        {
            _layers = Register("layers", new ModuleList(new Linear(4, 8), new Linear(8, 8)));
            _heads = Register("heads", new ModuleDict([new("score", new Linear(8, 1)), new("classes", new Linear(8, 3))]));
            _norm = Register("norm", new LayerNorm(8));
        }

        public override int OutputCount => 2;

        protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
        {
            var x = inputs[0];
            foreach (var layer in _layers) x = layer.Call(x).Relu();
            x = _norm.Call(x);
            return [_heads["score"].Call(x), _heads["classes"].Call(x)];
        }
    }
}
