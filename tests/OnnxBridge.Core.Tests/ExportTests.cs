using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

[TestClass]
[DoNotParallelize]
public sealed class ExportTests
{
    private static Sequential TrainedShapeMlp()
    {
        random.manual_seed(7);
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        return net;
    }

    [TestMethod]
    public void Export_Mlp_UsesGemmReluGemmWithStateDictInitializers()
    {
        var model = OnnxExporter.Export(TrainedShapeMlp(), new ExportOptions(TestModels.Input20));

        CollectionAssert.AreEqual(new[] { "Gemm", "Relu", "Gemm" }, model.Graph.Node.Select(n => n.OpType).ToArray());
        CollectionAssert.AreEqual(new[] { "/0/Gemm", "/1/Relu", "/2/Gemm" }, model.Graph.Node.Select(n => n.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, model.Graph.Initializer.Select(i => i.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "input", "0.weight", "0.bias" }, model.Graph.Node[0].Input.ToArray());
    }

    [TestMethod]
    public void Export_Defaults_AreIr8Opset17WithNamedSymbolicBatch()
    {
        var model = OnnxExporter.Export(TrainedShapeMlp(), new ExportOptions(TestModels.Input20));

        Assert.AreEqual(8L, model.IrVersion);
        Assert.AreEqual(17L, model.OpsetImport.Single(o => o.Domain == "").Version);
        var input = model.Graph.Input.Single();
        Assert.AreEqual("input", input.Name);
        Assert.AreEqual("batch", input.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.AreEqual(20L, input.Type.TensorType.Shape.Dim[1].DimValue);
        var output = model.Graph.Output.Single();
        Assert.AreEqual("output", output.Name);
        Assert.AreEqual("batch", output.Type.TensorType.Shape.Dim[0].DimParam);
        Assert.AreEqual(10L, output.Type.TensorType.Shape.Dim[1].DimValue);
    }

    [TestMethod]
    public void Export_Metadata_NamesProducerAndHashesWeights()
    {
        var net = TrainedShapeMlp();
        var model = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20));

        Assert.AreEqual("OnnxBridge", model.ProducerName);
        Assert.IsFalse(string.IsNullOrEmpty(model.ProducerVersion));
        var hash = model.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value;
        Assert.AreEqual(64, hash.Length);
        Assert.AreEqual(OnnxExporter.WeightsHash(model.Graph), hash);

        using (no_grad()) ((Linear)net[0]).Bias!.add_(1);
        var changed = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20));
        Assert.AreNotEqual(hash, changed.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value);
    }

    [TestMethod]
    public void Export_Twice_GivesIdenticalBytes()
    {
        var net = TrainedShapeMlp();

        var first = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20)).ToByteArray();
        var second = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20)).ToByteArray();

        CollectionAssert.AreEqual(first, second);
    }

    [TestMethod]
    public void Export_UnbuiltNetwork_BuildsFromTheInputSpec()
    {
        var net = TestModels.SequentialMlp();

        var model = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20));

        Assert.IsTrue(net.IsBuilt);
        CollectionAssert.AreEqual(new long[] { 256, 20 }, model.Graph.Initializer[0].Dims.ToArray());
    }

    [TestMethod]
    public void Export_KeepsTrainingMode()
    {
        var net = TrainedShapeMlp();
        net.train();

        OnnxExporter.Export(net, new ExportOptions(TestModels.Input20));

        Assert.IsTrue(net.training);
    }

    [TestMethod]
    public void Export_HigherOpset_RaisesIrVersion()
    {
        var model = OnnxExporter.Export(TrainedShapeMlp(), new ExportOptions(TestModels.Input20) { Opset = 21 });

        Assert.AreEqual(10L, model.IrVersion);
        Assert.AreEqual(21L, model.OpsetImport[0].Version);
    }

    [TestMethod]
    public void Export_UnsupportedOpset_FailsNamingTheRange()
    {
        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(TrainedShapeMlp(), new ExportOptions(TestModels.Input20) { Opset = 9 }));

        Assert.AreEqual("opset 9 is not supported: use 13..21", error.Message);
    }

    [TestMethod]
    public void Export_UnregisteredChild_FailsNamingTheBlockType()
    {
        var error = Assert.ThrowsExactly<ExportException>(() =>
            OnnxExporter.Export(new UnregisteredChild(), new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 3))));

        StringAssert.StartsWith(error.Message, "block '<root>': a Linear block is called in forward but is not registered as a child");
    }

    [TestMethod]
    public void Export_ForwardReadingData_WorksEagerlyButFailsAtExportNamingTheBlock()
    {
        var net = new Sequential(new Linear(3, 3), new ReadsData());
        using var x = rand(2, 3);
        net.forward(x).Dispose();

        var error = Assert.ThrowsExactly<ExportException>(() =>
            OnnxExporter.Export(net, new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 3))));

        Assert.AreEqual("1", error.BlockPath);
        StringAssert.Contains(error.Message, "forward reads tensor data (Item) while the graph is being recorded");
        StringAssert.Contains(error.Message, "While, If");
    }

    [TestMethod]
    public void Export_NameClashes_AreErrors()
    {
        var net = TrainedShapeMlp();

        var input = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(net, new ExportOptions(InputSpec.Float32("0.weight", Dim.Named("batch"), 20))));
        var output = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(net, new ExportOptions(TestModels.Input20) { OutputName = "2.bias" }));

        StringAssert.Contains(input.Message, "the state-dict key '0.weight' is already the name of another graph value");
        Assert.AreEqual("the output name '2.bias' is already the name of an input or of an initializer; choose another OutputName", output.Message);
    }

    [TestMethod]
    public void Export_RawTorchSharpInForward_PointsToOpsCustom()
    {
        var net = new Sequential(new Linear(3, 3), new RawTorchSharp());

        var error = Assert.ThrowsExactly<ExportException>(() =>
            OnnxExporter.Export(net, new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 3))));

        StringAssert.StartsWith(error.Message, "block '1': forward reads tensor data (Tensor) while the graph is being recorded");
        StringAssert.Contains(error.Message, "wrap it in Ops.Custom with a lowering");
    }

    [TestMethod]
    public void Export_RankThreeInput_UsesTransposeMatMulAdd()
    {
        random.manual_seed(3);
        var net = new Sequential(new Linear(6, 4));
        var spec = InputSpec.Float32("input", Dim.Named("batch"), 5, 6);

        var model = OnnxExporter.Export(net, new ExportOptions(spec));

        CollectionAssert.AreEqual(new[] { "Transpose", "MatMul", "Add" }, model.Graph.Node.Select(n => n.OpType).ToArray());
        Assert.AreEqual("output", model.Graph.Node[^1].Output[0]);
    }

    [TestMethod]
    public void Export_Files_PassOnnxFullCheck()
    {
        using var temp = new TempFolder();
        var paths = new[] { temp.File("seq.onnx"), temp.File("mlp.onnx"), temp.File("rank3.onnx"), temp.File("opset13.onnx") };
        OnnxExporter.Save(TrainedShapeMlp(), new ExportOptions(TestModels.Input20), paths[0]);
        OnnxExporter.Save(new Mlp(), new ExportOptions(TestModels.Input20), paths[1]);
        OnnxExporter.Save(new Sequential(new Linear(6, 4), new ReLU()), new ExportOptions(InputSpec.Float32("input", Dim.Named("batch"), 5, 6)), paths[2]);
        OnnxExporter.Save(TrainedShapeMlp(), new ExportOptions(TestModels.Input20) { Opset = 13 }, paths[3]);

        OnnxChecker.AssertValid(paths);
    }

    [TestMethod]
    public void SizesTakenInTheForward_StaySymbolic_SoOneExportServesEveryBatchSize()
    {
        // x + arange(x.size(0))[:, None], and ones_like(x): both shaped by the batch at run time.
        var net = new Lambda(x => x + Ops.Arange(x.Size(0)).To(x.ElementType).Unsqueeze(1) + Ops.OnesLike(x));
        var model = OnnxExporter.Export(net, new ExportOptions(InputSpec.Float32("x", Dim.Named("batch"), 3)));
        using var session = OnnxModelSession.Open(Google.Protobuf.MessageExtensions.ToByteArray(model));

        foreach (var batch in new[] { 2L, 5L })
        {
            using var x = randn(batch, 3);
            var expected = TensorConvert.ToHost(net.forward(x));
            var actual = session.Run([new NamedTensor("x", TensorConvert.ToHost(x))])[0].Tensor;
            Assert.IsTrue(TensorComparer.Compare("output", expected, actual, Tolerance.Float32).Passed, $"batch {batch}");
        }
        Assert.IsTrue(model.Graph.Node.Any(n => n.OpType == "Range"), "the length comes from Shape at run time");
    }

    [TestMethod]
    public void ReshapeWithMinusOne_WhereTheKnownSizesMatch_KeepsTheBatchDimensionNamed()
    {
        var input = InputSpec.Float32("x", Dim.Named("batch"), 64);

        var image = new Lambda(x => x.Reshape(-1, 1, 8, 8)).Build(input);
        var halves = new Lambda(x => x.Reshape(-1, 32)).Build(input);
        var model = OnnxExporter.Export(new Lambda(x => x.Reshape(-1, 1, 8, 8).Flatten(1)), new ExportOptions(input));

        Assert.AreEqual("[batch, 1, 8, 8]", Dim.Format(image));
        Assert.AreEqual("[?, 32]", Dim.Format(halves), "batch·2 rows: not the batch, and not claimed to be");
        Assert.AreEqual("batch", model.Graph.Output[0].Type.TensorType.Shape.Dim[0].DimParam, "Triton batches along the named dimension");
    }

    private sealed class Lambda(Func<Value, Value> body) : Block("Lambda")
    {
        protected override Value Forward(Value input) => body(input);
    }
}
