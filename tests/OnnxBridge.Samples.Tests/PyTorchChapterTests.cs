using System.Text.Json;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>
/// The chapter's networks against the chapter's own PyTorch classes (Debian's python3-torch 1.13):
/// PyTorch's <c>load_state_dict(strict=True)</c> takes our <c>.pt</c> files, ours strictly takes
/// PyTorch's, the key lists are identical in order, and each side's forward with the other's
/// weights agrees within |Δ| ≤ 1e-5 + 1e-5·|ref|.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class PyTorchChapterTests
{
    /// <summary>Each network: how to make ours, and its input width (PyTorch's lazy layers materialize on the same input).</summary>
    private static readonly Dictionary<string, (Func<Block> Make, int Width)> Networks = new()
    {
        ["first"] = (() => ChapterNetworks.FirstNet(), 20),
        ["mlp"] = (() => new Mlp(), 20),
        ["my_sequential"] = (() => new MySequential(new Linear(256), new ReLU(), new Linear(10)), 20),
        ["fixed_hidden"] = (() => new FixedHiddenMlp(), 20),
        ["nest"] = (() => new NestMlp(), 20),
        ["chimera"] = (() => ChapterNetworks.Chimera(), 20),
        ["rgnet"] = (() => ChapterNetworks.RgNet(), 4),
        ["tied"] = (() => ChapterNetworks.TiedNet(out _), 20),
        ["centered"] = (() => new Sequential(new Linear(128), new CenteredLayer()), 8),
        ["my_linear"] = (() => new Sequential(new MyLinear(64, 8), new MyLinear(8, 1)), 64),
        ["fields"] = (() => new Outer(), 20),
    };

    /// <summary>The chapter's classes as d2l writes them, plus field-registered nesting, written by PyTorch's side of the test.</summary>
    private const string Script = """
        import json, sys, torch
        from torch import nn
        from torch.nn import functional as F

        class MLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.LazyLinear(256)
                self.out = nn.LazyLinear(10)
            def forward(self, X):
                return self.out(F.relu(self.hidden(X)))

        class MySequential(nn.Module):
            def __init__(self, *args):
                super().__init__()
                for idx, module in enumerate(args):
                    self.add_module(str(idx), module)
            def forward(self, X):
                for module in self.children():
                    X = module(X)
                return X

        class FixedHiddenMLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.rand_weight = torch.rand((20, 20))
                self.linear = nn.LazyLinear(20)
            def forward(self, X):
                X = self.linear(X)
                X = F.relu(X @ self.rand_weight + 1)
                X = self.linear(X)
                while X.abs().sum() > 1:
                    X /= 2
                return X.sum()

        class NestMLP(nn.Module):
            def __init__(self):
                super().__init__()
                self.net = nn.Sequential(nn.LazyLinear(64), nn.ReLU(), nn.LazyLinear(32), nn.ReLU())
                self.linear = nn.LazyLinear(16)
            def forward(self, X):
                return self.linear(self.net(X))

        class CenteredLayer(nn.Module):
            def forward(self, X):
                return X - X.mean()

        class MyLinear(nn.Module):
            def __init__(self, in_units, units):
                super().__init__()
                self.weight = nn.Parameter(torch.randn(in_units, units))
                self.bias = nn.Parameter(torch.randn(units,))
            def forward(self, X):
                return F.relu(torch.matmul(X, self.weight.data) + self.bias.data)

        class Inner(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.LazyLinear(8)
                self.output = nn.LazyLinear(4)
            def forward(self, X):
                return self.output(F.relu(self.hidden(X)))

        class Middle(nn.Module):
            def __init__(self):
                super().__init__()
                self.inner = Inner()
                self.Head = nn.LazyLinear(3)
            def forward(self, X):
                return self.Head(self.inner(X))

        class Outer(nn.Module):
            def __init__(self):
                super().__init__()
                self.middle = Middle()
                self.last = nn.LazyLinear(2)
            def forward(self, X):
                return self.last(self.middle(X))

        def block1():
            return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 4), nn.ReLU())

        def block2():
            net = nn.Sequential()
            for i in range(4):
                net.add_module(f'block {i}', block1())
            return net

        def tied():
            shared = nn.LazyLinear(8)
            return nn.Sequential(nn.LazyLinear(8), nn.ReLU(), shared, nn.ReLU(), shared, nn.ReLU(), nn.LazyLinear(1))

        make = {
            "first": lambda: nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10)),
            "mlp": MLP,
            "my_sequential": lambda: MySequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10)),
            "fixed_hidden": FixedHiddenMLP,
            "nest": NestMLP,
            "chimera": lambda: nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP()),
            "rgnet": lambda: nn.Sequential(block2(), nn.Linear(4, 1)),
            "tied": tied,
            "centered": lambda: nn.Sequential(nn.LazyLinear(128), CenteredLayer()),
            "my_linear": lambda: nn.Sequential(MyLinear(64, 8), MyLinear(8, 1)),
            "fields": Outer,
        }

        def fixed_hidden_blocks(net):
            return [m for m in net.modules() if isinstance(m, FixedHiddenMLP)]

        folder = sys.argv[1]
        report = {}
        torch.manual_seed(123)
        for name in sys.argv[2:]:
            x = torch.load(f"{folder}/{name}.input.pt", weights_only=True)
            constants = torch.load(f"{folder}/{name}.constants.pt", weights_only=True)
            # 1. Ours into the chapter's class, strictly; the same forward.
            net = make[name]()
            with torch.no_grad():
                net(x)  # materializes the lazy layers, as the chapter does
            result = net.load_state_dict(torch.load(f"{folder}/{name}.ours.pt", weights_only=True), strict=True)
            for block, constant in zip(fixed_hidden_blocks(net), constants.values()):
                block.rand_weight = constant
            with torch.no_grad():
                ours_in_torch = net(x)
            # 2. PyTorch's own weights (and its rand_weight constants) for ours to load strictly.
            theirs = make[name]()
            with torch.no_grad():
                theirs(x)
                theirs_out = theirs(x)
            torch.save(theirs.state_dict(), f"{folder}/{name}.theirs.pt")
            torch.save({str(i): b.rand_weight for i, b in enumerate(fixed_hidden_blocks(theirs))}, f"{folder}/{name}.theirs-constants.pt")
            torch.save({"ours": ours_in_torch, "theirs": theirs_out}, f"{folder}/{name}.outputs.pt")
            report[name] = {"keys": list(theirs.state_dict().keys()), "missing": result.missing_keys, "unexpected": result.unexpected_keys,
                            "printed": repr(make[name]())}
        print(json.dumps(report))
        """;

    [TestMethod]
    public void ChapterNetworks_StrictLoadBothWays_WithPyTorchsExactKeys()
    {
        using var temp = new TempFolder();
        random.manual_seed(42);
        var ours = new Dictionary<string, (Block Net, Tensor Input, Tensor Output)>();
        var printed = new Dictionary<string, string>();
        foreach (var (name, (make, width)) in Networks)
        {
            var net = make();
            printed[name] = net.ToString();
            var x = rand(3, width);
            var output = net.forward(x);
            TensorFiles.Save(temp.File($"{name}.input.pt"), x);
            StateDicts.Save(net, temp.File($"{name}.ours.pt"));
            TensorFiles.SaveDict(temp.File($"{name}.constants.pt"), Constants(net));
            ours[name] = (net, x, output);
        }

        var report = JsonSerializer.Deserialize<Dictionary<string, Report>>(PythonTorch.Run(Script, [temp.Path, .. Networks.Keys]))!;

        foreach (var (name, (net, x, output)) in ours)
        {
            var r = report[name];
            // Before the first input, as PyTorch prints lazy modules (MyLinear prints its sizes here, where d2l's prints none).
            if (name != "my_linear") Assert.AreEqual(r.printed, printed[name], $"{name}: the structure print before the first input");
            Assert.AreEqual(0, r.missing.Length + r.unexpected.Length, $"{name}: PyTorch's strict load reports missing [{string.Join(", ", r.missing)}], unexpected [{string.Join(", ", r.unexpected)}]");
            CollectionAssert.AreEqual(r.keys, net.state_dict().Keys.ToArray(), $"{name}: ours [{string.Join(", ", net.state_dict().Keys)}] vs PyTorch's [{string.Join(", ", r.keys)}]");
            var outputs = TensorFiles.LoadDict(temp.File($"{name}.outputs.pt"));
            AssertClose(outputs["ours"], output, $"{name}: PyTorch's forward with our weights");

            var fresh = Networks[name].Make();
            fresh.forward(x).Dispose();
            StateDicts.Load(fresh, temp.File($"{name}.theirs.pt"), strict: true);
            RestoreConstants(fresh, TensorFiles.LoadDict(temp.File($"{name}.theirs-constants.pt")));
            AssertClose(fresh.forward(x), outputs["theirs"], $"{name}: our forward with PyTorch's weights");
        }
    }

    /// <summary>Each FixedHiddenMLP's rand_weight, in module order: a constant kept out of the state dict, saved on its own.</summary>
    private static Dictionary<string, Tensor> Constants(Block net) =>
        FixedHidden(net).Select((b, i) => (b, i)).ToDictionary(p => p.i.ToString(System.Globalization.CultureInfo.InvariantCulture), p => p.b.RandWeight);

    private static void RestoreConstants(Block net, IReadOnlyDictionary<string, Tensor> constants)
    {
        using var noGrad = no_grad();
        foreach (var (block, i) in FixedHidden(net).Select((b, i) => (b, i)))
            block.RandWeight.copy_(constants[i.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
    }

    private static IEnumerable<FixedHiddenMlp> FixedHidden(Block net) =>
        net.modules().Prepend(net).OfType<FixedHiddenMlp>();

    private static void AssertClose(Tensor actual, Tensor expected, string what) => TensorAssert.Close(expected, actual, what);

    private sealed record Report(string[] keys, string[] missing, string[] unexpected, string printed);

    // Nested user blocks registered through fields (RegisterComponents, PyTorch's attribute
    // assignment) and an auto-property, inside one registered with Register.
    private sealed class Inner : Block
    {
#pragma warning disable IDE0044, CA1051 // fields are the registration mechanism under test
        private Linear hidden = new(8);
        private Linear output = new(4);
#pragma warning restore IDE0044, CA1051

        public Inner() : base(nameof(Inner)) => RegisterComponents();

        protected override Value Forward(Value input) => output.Call(hidden.Call(input).Relu());
    }

    private sealed class Middle : Block
    {
        private readonly Inner inner = new();

        public Middle() : base(nameof(Middle)) => RegisterComponents();

        public Linear Head { get; } = new(3);

        protected override Value Forward(Value input) => Head.Call(inner.Call(input));
    }

    private sealed class Outer : Block
    {
        private readonly Middle _middle;
        private readonly Linear _last;

        public Outer() : base(nameof(Outer))
        {
            _middle = Register("middle", new Middle());
            _last = Register("last", new Linear(2));
        }

        protected override Value Forward(Value input) => _last.Call(_middle.Call(input));
    }
}
