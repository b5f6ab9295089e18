using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Tied parameters in state-dict files, and weights read back from exported ONNX models.</summary>
[TestClass]
[DoNotParallelize]
public sealed class SerializationTests
{
    [TestMethod]
    public void TiedNetwork_IsStoredOnceAndRestoredTied()
    {
        using var temp = new TempFolder();
        random.manual_seed(31);
        var net = ChapterNetworks.TiedNet(out _);
        using var x = rand(3, 4);
        using var expected = net.forward(x);
        StateDicts.Save(net, temp.File("tied.safetensors"));

        var (stored, metadata) = Safetensors.Read(temp.File("tied.safetensors"));
        var fresh = ChapterNetworks.TiedNet(out var shared);
        StateDicts.Load(fresh, temp.File("tied.safetensors"));

        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias" }, stored.Select(t => t.Name).ToArray());
        Assert.AreEqual("{\"4.weight\":\"2.weight\",\"4.bias\":\"2.bias\"}", metadata[StateDicts.TiedKeysMetadata]);
        Assert.IsTrue(fresh.forward(x).allclose(expected, rtol: 0, atol: 0));
        Assert.AreSame(fresh[2], fresh[4]);
        Assert.AreEqual(8L, shared.InFeatures);
    }

    [TestMethod]
    public void ExportedOnnx_WeightsLoadBackIntoTheSameArchitecture()
    {
        using var temp = new TempFolder();
        random.manual_seed(32);
        var net = new FixedHiddenMlp();
        using var x = rand(5, 20);
        using var expected = net.forward(x);
        OnnxExporter.Save(net, new ExportOptions(ChapterParity.Batch(20)), temp.File("model.onnx"));

        var fresh = new FixedHiddenMlp();
        StateDicts.LoadFromOnnx(fresh, temp.File("model.onnx"));

        Assert.IsTrue(fresh.forward(x).allclose(expected, rtol: 0, atol: 0), "the buffer and the deferred layer must both come back");
        Assert.IsTrue(fresh.RandWeight.allclose(net.RandWeight, rtol: 0, atol: 0));
    }

    [TestMethod]
    public void ExportedTiedOnnx_HoldsOneCopy_AndLoadsBackTied()
    {
        using var temp = new TempFolder();
        var net = ChapterNetworks.TiedNet(out _);
        net.Build(ChapterParity.Batch(4));
        OnnxExporter.Save(net, new ExportOptions(ChapterParity.Batch(4)), temp.File("tied.onnx"));

        var fresh = ChapterNetworks.TiedNet(out _);
        var result = StateDicts.LoadFromOnnx(fresh, temp.File("tied.onnx"));
        using var x = rand(2, 4);

        Assert.AreEqual(0, result.MissingKeys.Count, string.Join(", ", result.MissingKeys));
        Assert.IsTrue(fresh.forward(x).allclose(net.forward(x), rtol: 0, atol: 0));
    }

    [TestMethod]
    public void OnnxModelOfAnotherArchitecture_ListsTheMismatches()
    {
        using var temp = new TempFolder();
        var net = new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 3));
        OnnxExporter.Save(net, new ExportOptions(ChapterParity.Batch(2)), temp.File("small.onnx"));

        var error = Assert.ThrowsExactly<StateDictException>(() => StateDicts.LoadFromOnnx(new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 4)), temp.File("small.onnx")));

        StringAssert.StartsWith(error.Message, $"state dict from ONNX model '{temp.File("small.onnx")}' does not fit the block; nothing was loaded. '0.weight': expected shape [4, 2], found [3, 2]");
    }
}
