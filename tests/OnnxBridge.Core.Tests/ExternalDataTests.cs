using OnnxBridge.Core.Export;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>Large initializers in an external data file beside the model, streamed from the parameters.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ExternalDataTests
{
    [TestMethod]
    public void Save_WithThreshold_PutsLargeInitializersInOneDataFileBesideTheModel()
    {
        using var temp = new TempFolder();
        random.manual_seed(41);
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        var options = new ExportOptions(TestModels.Input20) { ExternalDataThreshold = 1024 };

        var model = OnnxExporter.Save(net, options, temp.File("mlp.onnx"));

        var inline = OnnxExporter.Export(net, new ExportOptions(TestModels.Input20));
        var hash = model.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value;
        Assert.AreEqual(inline.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value, hash, "the weights hash does not depend on where the weights are stored");
        var files = Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        CollectionAssert.AreEqual(new[] { "mlp.onnx", $"mlp.onnx.{hash[..16]}.data" }, files);
        var written = OnnxFiles.ReadModel(temp.File("mlp.onnx")).Graph.Initializer;
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight" }, written.Where(i => i.DataLocation == TensorProto.Types.DataLocation.External).Select(i => i.Name).ToArray());
        Assert.IsTrue(written.Where(i => i.DataLocation == TensorProto.Types.DataLocation.External).All(i => long.Parse(i.ExternalData.Single(e => e.Key == "offset").Value, System.Globalization.CultureInfo.InvariantCulture) % 4096 == 0));
        Assert.IsTrue(written.Single(i => i.Name == "2.bias").HasRawData);
        OnnxChecker.AssertValid(temp.File("mlp.onnx"));
    }

    [TestMethod]
    public void ExternalDataModel_RunsUnderOnnxRuntime_AndLoadsBackIntoTheBlock()
    {
        using var temp = new TempFolder();
        random.manual_seed(42);
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        OnnxExporter.Save(net, new ExportOptions(TestModels.Input20) { ExternalDataThreshold = 0 }, temp.File("mlp.onnx"));
        using var x = randn(7, 20);

        using var session = OnnxModelSession.Open(temp.File("mlp.onnx"));
        var actual = session.Run([new NamedTensor("input", TensorConvert.ToHost(x))])[0].Tensor;
        var fresh = TestModels.SequentialMlp();
        StateDicts.LoadFromOnnx(fresh, temp.File("mlp.onnx"));

        Assert.IsTrue(TensorComparer.Compare("output", TensorConvert.ToHost(net.forward(x)), actual, Tolerance.Float32).Passed);
        Assert.IsTrue(fresh.forward(x).allclose(net.forward(x), rtol: 0, atol: 0));
    }

    [TestMethod]
    public void SavingNewWeights_ReplacesTheDataFile_AndRemovesTheOldOne()
    {
        using var temp = new TempFolder();
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        var options = new ExportOptions(TestModels.Input20) { ExternalDataThreshold = 0 };
        OnnxExporter.Save(net, options, temp.File("mlp.onnx"));
        using (no_grad()) net.parameters().First().add_(1);

        var model = OnnxExporter.Save(net, options, temp.File("mlp.onnx"));

        var hash = model.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value;
        CollectionAssert.AreEqual(new[] { "mlp.onnx", $"mlp.onnx.{hash[..16]}.data" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray());
    }

    [TestMethod]
    public void ExternalDataLeavingTheModelFolder_IsRefusedOnLoad()
    {
        using var temp = new TempFolder();
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        var model = OnnxExporter.Save(net, new ExportOptions(TestModels.Input20) { ExternalDataThreshold = 0 }, temp.File("mlp.onnx"));
        foreach (var entry in model.Graph.Initializer.SelectMany(i => i.ExternalData).Where(e => e.Key == "location")) entry.Value = "../../etc/passwd";
        File.WriteAllBytes(temp.File("evil.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(model));

        var error = Assert.ThrowsExactly<OnnxFileException>(() => StateDicts.ReadOnnxInitializers(temp.File("evil.onnx")));

        StringAssert.Contains(error.Message, "external data location '../../etc/passwd' leaves the model folder");
    }

    [TestMethod]
    public void ModelWriteFailingAfterTheDataFile_RemovesTheNewDataFile_LeavesTheEarlierExportIntact()
    {
        using var temp = new TempFolder();
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        var options = new ExportOptions(TestModels.Input20) { ExternalDataThreshold = 0 };
        OnnxExporter.Save(net, options, temp.File("old.onnx"));
        var before = Directory.GetFiles(temp.Path).Order(StringComparer.Ordinal).ToArray();
        // The model's final name is taken by a folder, so its write fails after the data file is in
        // place: the same point a full disk fails at (the model is written last).
        Directory.CreateDirectory(temp.File("mlp.onnx"));

        Assert.ThrowsExactly<IOException>(() => OnnxExporter.Save(net, options, temp.File("mlp.onnx")));

        CollectionAssert.AreEqual(before, Directory.GetFiles(temp.Path).Order(StringComparer.Ordinal).ToArray(), "only the earlier export's files remain");
        Assert.AreEqual(net.state_dict().Count, StateDicts.ReadOnnxInitializers(temp.File("old.onnx")).Count);
    }
}
