using Google.Protobuf;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// ONNX import (issue #15): models written by real PyTorch (Debian's python3-torch 1.13) import as
/// trainable blocks, match PyTorch's outputs, train, and export again with ONNX Runtime agreeing.
/// Tolerances: 1e-5 absolute + 1e-5 relative (fp32) between engines.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class OnnxImportTests
{
    /// <summary>
    /// Networks exported by PyTorch with a dynamic batch: an MLP (Gemm), a CNN whose BatchNorm stays a
    /// node, and a super-resolution chain whose PixelShuffle is DepthToSpace in CRD mode.
    /// </summary>
    private const string ExportFromPyTorch = """
        import sys, torch
        torch.manual_seed(0)
        out = sys.argv[1]
        mlp = torch.nn.Sequential(torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Linear(32, 10))
        cnn = torch.nn.Sequential(torch.nn.Conv2d(1, 8, 3, padding=1), torch.nn.BatchNorm2d(8), torch.nn.ReLU(), torch.nn.MaxPool2d(2),
                                  torch.nn.Flatten(), torch.nn.Linear(8 * 4 * 4, 10), torch.nn.LogSoftmax(dim=1))
        sr = torch.nn.Sequential(torch.nn.Conv2d(1, 16, 3, padding=1), torch.nn.ReLU(), torch.nn.PixelShuffle(2), torch.nn.Conv2d(4, 1, 3, padding=1))
        x = torch.rand(5, 64)
        cnn(torch.rand(32, 1, 8, 8))   # running statistics of its own, not the initial zeros and ones
        for name, net, inp in [("mlp", mlp, x), ("cnn", cnn, x.reshape(5, 1, 8, 8)), ("sr", sr, x.reshape(5, 1, 8, 8))]:
            net.eval()
            torch.onnx.export(net, inp, f"{out}/{name}.onnx", input_names=["x"], output_names=["y"],
                              dynamic_axes={"x": {0: "batch"}, "y": {0: "batch"}}, opset_version=13,
                              training=torch.onnx.TrainingMode.PRESERVE)   # PRESERVE: eval-mode BatchNorm, not folded into the Conv
        saved = {"x": x, "mlp": mlp(x).detach(), "cnn": cnn(x.reshape(5, 1, 8, 8)).detach(), "sr": sr(x.reshape(5, 1, 8, 8)).detach()}
        # A Transformer encoder layer (time-major, so PyTorch's exporter does not take the fused fast path),
        # every parameter redrawn; no constant folding, so the initializers keep their state-dict keys.
        enc = torch.nn.TransformerEncoderLayer(16, 4, 32, dropout=0.0)
        with torch.no_grad():
            for p in enc.parameters(): p.normal_(0, 0.3)
        enc.eval()
        torch.onnx.export(enc, torch.randn(7, 2, 16), f"{out}/encoder.onnx", input_names=["x"], output_names=["y"], opset_version=14,
                          dynamic_axes={"x": {0: "seq", 1: "batch"}, "y": {0: "seq", 1: "batch"}}, do_constant_folding=False)
        for n, b in [(7, 2), (11, 3)]:
            saved[f"enc.x{n}"] = torch.randn(n, b, 16)
            saved[f"enc.y{n}"] = enc(saved[f"enc.x{n}"]).detach()
        torch.save(saved, f"{out}/data.pt")
        """;

    private static readonly Lazy<string> s_models = new(() => PythonTorch.RunInNewFolder("import", ExportFromPyTorch));

    [TestMethod]
    public void PyTorchMlp_ImportsWithPyTorchsKeys_AndMatchesPyTorch()
    {
        var block = OnnxImporter.Import(Path.Combine(s_models.Value, "mlp.onnx"));
        var data = TensorFiles.LoadDict(Path.Combine(s_models.Value, "data.pt"));

        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, block.state_dict().Keys.ToArray());
        Assert.IsTrue(block.parameters().All(p => p.requires_grad), "float initializers are trainable parameters");
        Assert.AreEqual("x:float32[batch,64]", block.Inputs.Single().ToString());
        using var y = block.forward_all(data["x"])[0];
        TensorAssert.Close(data["mlp"], y, "imported MLP vs PyTorch");
    }

    [TestMethod]
    public void PyTorchCnn_ImportsTrainsOneEpoch_AndReexportsWithParity()
    {
        var block = OnnxImporter.Import(Path.Combine(s_models.Value, "cnn.onnx"));
        var data = TensorFiles.LoadDict(Path.Combine(s_models.Value, "data.pt"));
        var x = data["x"].reshape(5, 1, 8, 8);
        block.eval();
        TensorAssert.Close(data["cnn"], block.forward_all(x)[0], "imported CNN vs PyTorch");
        Assert.IsTrue(block.named_buffers().Any(b => b.name.EndsWith("running_mean", StringComparison.Ordinal)), "BatchNorm's running statistics are buffers");

        // One epoch on a generated task: the class is the quadrant of the image's brightest pixel.
        random.manual_seed(3);
        var images = rand(256, 1, 8, 8);
        var labels = images.reshape(256, 64).argmax(1).div(16, rounding_mode: RoundingMode.floor);
        var before = block.parameters().Select(p => p.detach().clone()).ToList();
        var optimizer = optim.SGD(block.parameters(), 0.05);
        block.train();
        double first = 0, last = 0;
        for (int step = 0; step < 16; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var logits = block.forward_all(images[TensorIndex.Slice(step * 16, step * 16 + 16)])[0];
            var loss = nn.functional.nll_loss(logits, labels[TensorIndex.Slice(step * 16, step * 16 + 16)]);
            loss.backward();
            optimizer.step();
            if (step == 0) first = loss.item<float>();
            last = loss.item<float>();
        }
        Assert.IsTrue(block.parameters().Zip(before).All(p => !p.First.equal(p.Second).all().item<bool>()), "every parameter trained");
        Assert.IsTrue(double.IsFinite(last) && double.IsFinite(first), $"losses {first} → {last}");

        block.eval();
        var model = Export.OnnxExporter.Export(block, block.ExportOptions());
        CollectionAssert.AreEqual(new[] { "x" }, model.Graph.Input.Select(i => i.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "y" }, model.Graph.Output.Select(o => o.Name).ToArray());
        using var session = OnnxModelSession.Open(model.ToByteArray());
        var probe = rand(7, 1, 8, 8);   // another batch size than PyTorch exported with
        var ours = block.forward_all(probe)[0];
        var theirs = TensorConvert.ToTorch(session.Run([new("x", TensorConvert.ToHost(probe))])[0].Tensor);
        TensorAssert.Close(ours, theirs, "re-exported fine-tuned CNN under ONNX Runtime vs TorchSharp");
    }

    [TestMethod]
    public void PyTorchTransformerEncoderLayer_ImportsWithItsKeys_RunsAtEveryLength_AndTrains()
    {
        var block = OnnxImporter.Import(Path.Combine(s_models.Value, "encoder.onnx"));
        var data = TensorFiles.LoadDict(Path.Combine(s_models.Value, "data.pt"));
        var keys = block.state_dict().Keys.ToHashSet();
        foreach (var key in new[] { "self_attn.in_proj_weight", "self_attn.in_proj_bias", "self_attn.out_proj.weight", "linear1.weight", "linear2.bias", "norm1.weight" })
            Assert.IsTrue(keys.Contains(key), $"'{key}' among the imported keys: {string.Join(", ", keys)}");
        block.eval();
        using (no_grad())
        {
            foreach (var n in new[] { 7, 11 })   // PyTorch exported at length 7; its reshapes read the run-time shape
                TensorAssert.Close(data[$"enc.y{n}"], block.forward_all(data[$"enc.x{n}"])[0], $"imported encoder layer vs PyTorch at length {n}", absolute: 2e-5, relative: 1e-4);
        }

        // Fine-tuning: a fixed batch regressed onto a target; the loss falls and every weight moves.
        block.train();
        random.manual_seed(4);
        var (x, target) = (randn(9, 4, 16), randn(9, 4, 16));
        var before = block.parameters().Select(p => p.detach().clone()).ToList();
        var optimizer = optim.SGD(block.parameters(), 0.02);
        var losses = new List<double>();
        for (int step = 0; step < 20; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = nn.functional.mse_loss(block.forward_all(x)[0], target);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.IsTrue(losses[^1] < losses[0], $"losses {losses[0]} → {losses[^1]}");
        Assert.IsTrue(block.parameters().Zip(before).All(p => !p.First.equal(p.Second).all().item<bool>()), "every parameter trained");
    }

    [TestMethod]
    public void PyTorchSequentials_ComeBackAsSequentialsOfRealLayers_WithPyTorchsKeysAndTheSameGraph()
    {
        var data = TensorFiles.LoadDict(Path.Combine(s_models.Value, "data.pt"));
        foreach (var (name, x) in new[] { ("mlp", data["x"]), ("cnn", data["x"].reshape(5, 1, 8, 8)), ("sr", data["x"].reshape(5, 1, 8, 8)) })
        {
            var path = Path.Combine(s_models.Value, name + ".onnx");
            var graph = OnnxImporter.Import(path);
            var sequential = OnnxImporter.AsSequential(graph);
            Assert.IsNotNull(sequential, $"{name}: a PyTorch Sequential is recognized");
            graph.eval();
            sequential.eval();

            CollectionAssert.AreEqual(graph.state_dict().Keys.ToArray(), sequential.state_dict().Keys.Where(k => !k.EndsWith("num_batches_tracked", StringComparison.Ordinal)).ToArray(), name);
            TensorAssert.Close(data[name], sequential.forward(x), $"{name}: the recognized Sequential vs PyTorch");
            var original = Onnx.OnnxFiles.ReadModel(path);
            var again = Export.OnnxExporter.Export(sequential, new Export.ExportOptions(graph.Inputs[0]));
            CollectionAssert.AreEqual(original.Graph.Node.Select(n => n.OpType).Where(op => op != "Identity").ToArray(), again.Graph.Node.Select(n => n.OpType).ToArray(), $"{name}: the same ops, in order");
            CollectionAssert.AreEquivalent(original.Graph.Initializer.Select(i => i.Name).ToArray(), again.Graph.Initializer.Select(i => i.Name).ToArray(), $"{name}: the same initializer names");
        }
        Console.WriteLine(OnnxImporter.AsSequential(OnnxImporter.Import(Path.Combine(s_models.Value, "cnn.onnx"))));
    }

    [TestMethod]
    public void GraphsThatAreNotAChainOfLayers_StayGraphBlocks()
    {
        // d2l's FixedHiddenMLP (a Loop) and a graph with a branch (x + relu(x)) are not Sequentials.
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(FloatInput("x", 4));
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "x" }, Output = { "r" } });
        graph.Node.Add(new NodeProto { OpType = "Add", Input = { "x", "r" }, Output = { "y" } });
        graph.Output.Add(FloatInput("y", 4));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });

        Assert.IsNull(OnnxImporter.AsSequential(OnnxImporter.Import(model)));
    }

    [TestMethod]
    public void UnsupportedOps_FailWithOneErrorListingEveryOpAndNode()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(FloatInput("x", 4));
        graph.Node.Add(new NodeProto { OpType = "Relu", Input = { "x" }, Output = { "a" }, Name = "relu" });
        graph.Node.Add(new NodeProto { OpType = "NonZero", Input = { "a" }, Output = { "b" }, Name = "nz1" });
        graph.Node.Add(new NodeProto { OpType = "NonZero", Input = { "a" }, Output = { "c" }, Name = "nz2" });
        graph.Node.Add(new NodeProto { OpType = "FusedGemm", Domain = "com.microsoft", Input = { "a" }, Output = { "d" }, Name = "fused" });
        graph.Output.Add(FloatInput("d", 4));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });

        var error = Assert.ThrowsExactly<OnnxImportException>(() => OnnxImporter.Import(model));
        StringAssert.Contains(error.Message, "2 op(s)");
        StringAssert.Contains(error.Message, "NonZero (ai.onnx, opset 17) in 'nz1', 'nz2'");
        StringAssert.Contains(error.Message, "FusedGemm (com.microsoft, opset 17) in 'fused'");
        Assert.IsFalse(error.Message.Contains("Relu", StringComparison.Ordinal), error.Message);
    }

    /// <summary>
    /// SpaceToDepth undoes DepthToSpace in ONNX's default DCR mode (onnx's own cases check each op's
    /// values; this checks the pair, gradients through them, and the export at a symbolic batch).
    /// </summary>
    [TestMethod]
    public void DepthToSpaceThenSpaceToDepth_GiveTheInputBack_EagerlyAndReexportedAtAnyBatch()
    {
        var graph = new GraphProto { Name = "g" };
        graph.Input.Add(Float4d("x", 8));
        graph.Node.Add(new NodeProto { OpType = "DepthToSpace", Input = { "x" }, Output = { "up" }, Attribute = { new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = 2 } } });
        graph.Node.Add(new NodeProto { OpType = "SpaceToDepth", Input = { "up" }, Output = { "y" }, Attribute = { new AttributeProto { Name = "blocksize", Type = AttributeProto.Types.AttributeType.Int, I = 2 } } });
        graph.Output.Add(Float4d("y", 8));
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        var block = OnnxImporter.Import(model);

        random.manual_seed(3);
        var x = randn(3, 8, 5, 7).requires_grad_(true);
        var y = block.forward(x);
        Assert.IsTrue(y.equal(x).all().item<bool>(), "SpaceToDepth(DepthToSpace(x)) is x");
        (y * arange(y.NumberOfElements).reshape(y.shape)).sum().backward();
        Assert.IsTrue(x.grad!.equal(arange(x.NumberOfElements).reshape(x.shape).to(x.dtype)).all().item<bool>(), "the gradient passes through both unchanged");

        var again = Export.OnnxExporter.Export(block, block.ExportOptions());
        CollectionAssert.AreEqual(new[] { "DepthToSpace", "SpaceToDepth" }, again.Graph.Node.Select(n => n.OpType).ToArray());
        using var session = Runtime.Sessions.OnnxModelSession.Open(again.ToByteArray());
        var input = TensorConvert.ToHost(randn(2, 8, 3, 3));
        var output = session.Run([new Onnx.TestCases.NamedTensor("x", input)])[0].Tensor;
        CollectionAssert.AreEqual(input.ToArray<float>(), output.ToArray<float>(), "under ONNX Runtime at another batch and size");
    }

    private static ValueInfoProto Float4d(string name, long channels) => new()
    {
        Name = name,
        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto { Dim =
        {
            new TensorShapeProto.Types.Dimension { DimParam = "N" }, new TensorShapeProto.Types.Dimension { DimValue = channels },
            new TensorShapeProto.Types.Dimension { DimParam = "H" }, new TensorShapeProto.Types.Dimension { DimParam = "W" },
        } } } },
    };

    [TestMethod]
    public void StateDictKeys_KeepDottedNames_FlattenOnlyWhatPyTorchCouldNotHold()
    {
        var keys = OnnxImporter.StateDictKeys(["0.weight", "layer1.0.conv1.weight", "onnx::Conv_18", "/stem/Conv_output_0", "a..b", "0.weight.extra", "0_weight_extra"]);
        Assert.AreEqual("0.weight", keys["0.weight"]);
        Assert.AreEqual("layer1.0.conv1.weight", keys["layer1.0.conv1.weight"]);
        Assert.AreEqual("onnx::Conv_18", keys["onnx::Conv_18"]);
        Assert.AreEqual("/stem/Conv_output_0", keys["/stem/Conv_output_0"]);
        Assert.AreEqual("a__b", keys["a..b"], "an empty part cannot be a module name");
        Assert.AreEqual("0_weight_extra", keys["0.weight.extra"], "'0.weight' is a tensor, so it cannot also hold one");
        Assert.AreEqual("0_weight_extra_2", keys["0_weight_extra"], "a flattened name that is taken gets a suffix");
    }

    private static ValueInfoProto FloatInput(string name, long size) => new()
    {
        Name = name,
        Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = size } } } } },
    };
}
