using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.PluginBlocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>Blocks with several inputs (<see cref="TwoTowers"/>): one graph input per declared spec, in order.</summary>
[TestClass]
[DoNotParallelize]
public sealed class MultiInputTests
{
    private static readonly InputSpec Left = InputSpec.Float32("left", Dim.Named("batch"), 4);
    private static readonly InputSpec Right = InputSpec.Float32("right", Dim.Named("batch"), 3);

    [TestMethod]
    public void TwoInputBlock_ExportsBothInputs_WithParityOnSeveralBatchSizes()
    {
        using var temp = new TempFolder();
        random.manual_seed(51);
        var net = new TwoTowers();
        using var y = net.forward(rand(2, 4), rand(2, 3));
        CollectionAssert.AreEqual(new long[] { 2, 6 }, y.shape);

        var model = ParityBundle.Write(temp.Path, net, new ExportOptions(Left, Right), [[rand(1, 4), rand(1, 3)], [rand(9, 4), rand(9, 3)]]);
        OnnxChecker.AssertValid(temp.File(OnnxTestCase.ModelFileName));
        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        CollectionAssert.AreEqual(new[] { "left", "right" }, model.Graph.Input.Select(i => i.Name).ToArray());
        Assert.IsTrue(report.Passed, report.Format());
        Assert.AreEqual("[9, 4] [9, 3]", string.Join(" ", report.DataSets[1].InputShapes));
    }

    [TestMethod]
    public void Build_WithOneSpecPerInput_MaterializesBothTowers()
    {
        var net = new TwoTowers();

        var shape = net.Build(Left, Right);

        Assert.IsTrue(net.IsBuilt);
        Assert.AreEqual("[batch, 6]", Dim.Format(shape));
    }

    [TestMethod]
    public void SingleInputBlock_WithTwoDeclaredInputs_SaysWhatToDo()
    {
        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(new Sequential(new Linear(4, 2)), new ExportOptions(Left, Right)));

        Assert.AreEqual("Sequential takes one input, but 2 were declared; a block with several inputs derives from MultiInputBlock", error.Message);
    }

    [TestMethod]
    public void TwoInputBlock_CalledWithOne_SaysHowMany()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => new TwoTowers().Call([Value.Eager(rand(1, 4))]));

        StringAssert.StartsWith(error.Message, "TwoTowers takes 2 inputs, 1 were given");
    }
}
