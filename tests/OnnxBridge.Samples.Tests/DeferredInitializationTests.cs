using OnnxBridge.Core.Init;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 5: parameters wait for their shapes; initializers wait with them; summaries.</summary>
[TestClass]
[DoNotParallelize]
public sealed class DeferredInitializationTests
{
    [TestMethod]
    public void BeforeFirstUse_ParametersReportNotInitialized()
    {
        var net = ChapterNetworks.FirstNet();

        Assert.IsNull(net.Layer<Linear>(0).Weight);
        Assert.AreEqual(0, net.parameters().Count());
        Assert.IsFalse(net.IsBuilt);
        // PyTorch 1.13 prints nn.LazyLinear(256) this way until its first input.
        StringAssert.Contains(net.ToString(), "(0): LazyLinear(in_features=0, out_features=256, bias=True)");
        net.forward(rand(2, 20)).Dispose();
        StringAssert.Contains(net.ToString(), "(0): Linear(in_features=20, out_features=256, bias=True)");
    }

    [TestMethod]
    public void InitializerRequestedEarly_RunsAtMaterialization()
    {
        var net = ChapterNetworks.FirstNet();
        net.Initialize(Initializers.Constant(0.5, bias: -1));

        using var x = rand(2, 20);
        net.forward(x).Dispose();

        Assert.IsTrue(net.Layer<Linear>(0).Weight!.eq(0.5).all().item<bool>());
        Assert.IsTrue(net.Layer<Linear>(2).Bias!.eq(-1).all().item<bool>());
    }

    [TestMethod]
    public void InitializerRequestedEarly_RunsOnBuildWithoutData()
    {
        var net = ChapterNetworks.FirstNet();
        net.Initialize(Initializers.Constant(2));

        var shape = net.Build(ChapterParity.Batch(20));

        Assert.AreEqual("[batch, 10]", Dim.Format(shape));
        Assert.IsTrue(net.Layer<Linear>(2).Weight!.eq(2).all().item<bool>());
    }

    [TestMethod]
    public void InitializerRequestedEarly_YieldsToLoadedValues()
    {
        using var temp = new TempFolder();
        random.manual_seed(13);
        var source = ChapterNetworks.FirstNet();
        source.Build(ChapterParity.Batch(20));
        StateDicts.Save(source, temp.File("w.safetensors"));
        var target = ChapterNetworks.FirstNet();
        target.Initialize(Initializers.Constant(7));

        StateDicts.Load(target, temp.File("w.safetensors"));
        using var x = rand(2, 20);

        Assert.IsTrue(source.forward(x).allclose(target.forward(x), rtol: 0, atol: 0));
        Assert.IsFalse(target.Layer<Linear>(0).Weight!.eq(7).all().item<bool>());
    }

    [TestMethod]
    public void Summary_ListsShapesAndCountsTiedParametersOnce()
    {
        var summary = ChapterNetworks.TiedNet(out _).Summary(ChapterParity.Batch(4));

        Assert.AreEqual(4 * 8 + 8 + 8 * 8 + 8 + 8 + 1, summary.TrainableParameters);
        var rows = summary.Rows.Where(r => r.Path != "<root>").ToList();
        CollectionAssert.AreEqual(new[] { "0", "1", "2", "3", "2", "5", "6" }, rows.Select(r => r.Path).ToArray());
        Assert.IsTrue(rows[4].Shared);
        Assert.AreEqual(0, rows[4].Parameters);
        Assert.AreEqual("[batch, 1]", Dim.Format(rows[^1].OutputShape));
        StringAssert.Contains(summary.ToString(), "Trainable params: 121 (tied parameters counted once)");
    }

    [TestMethod]
    public void Summary_CountsBuffersSeparately()
    {
        var summary = new FixedHiddenMlp().Summary(ChapterParity.Batch(20));

        Assert.AreEqual(20 * 20 + 20, summary.TrainableParameters);
        Assert.AreEqual(400, summary.BufferElements);
        Assert.AreEqual("[]", Dim.Format(summary.Rows[^1].OutputShape));
    }
}
