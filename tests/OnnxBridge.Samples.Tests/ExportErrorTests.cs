using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 10: code that cannot be exported runs eagerly and fails at export with a message that teaches.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ExportErrorTests
{
    /// <summary>The chapter's loop written with a C# while on data instead of Flow.While.</summary>
    private sealed class CSharpLoop : Block
    {
        public CSharpLoop() : base(nameof(CSharpLoop)) { }

        protected override Value Forward(Value input)
        {
            var x = input;
            while (x.Abs().Sum().Item() > 1) x /= 2;
            return x.Sum();
        }
    }

    /// <summary>Raw TorchSharp inside forward, without an ONNX lowering.</summary>
    private sealed class Softplus() : Block(nameof(Softplus))
    {
        protected override Value Forward(Value input) => Ops.Custom("softplus", input, t => nn.functional.softplus(t));
    }

    /// <summary>Raw TorchSharp eagerly, with a lowering written in Value operations for export.</summary>
    private sealed class Doubler() : Block(nameof(Doubler))
    {
        protected override Value Forward(Value input) => Ops.Custom("double", input, t => t * 2, lowering: v => v + v);
    }

    [TestMethod]
    public void DataDependentCSharpLoop_RunsEagerly_FailsAtExportNamingBlockAndCombinator()
    {
        var net = new Sequential(new Linear(4, 4), new CSharpLoop());
        using var x = rand(2, 4) * 100;
        Assert.AreEqual(0, net.forward(x).dim());

        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(net, new ExportOptions(ChapterParity.Batch(4))));

        Assert.AreEqual("1", error.BlockPath);
        StringAssert.StartsWith(error.Message, "block '1': forward reads tensor data (Item) while the graph is being recorded");
        StringAssert.Contains(error.Message, "While, If");
    }

    [TestMethod]
    public void UnsupportedOp_FailsNamingTheOpAndTheBlock()
    {
        var net = new Sequential(new Linear(3, 3), new Softplus());
        using var x = rand(2, 3);
        net.forward(x).Dispose();

        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(net, new ExportOptions(ChapterParity.Batch(3))));

        Assert.AreEqual("softplus", error.Op);
        StringAssert.StartsWith(error.Message, "block '1', op softplus: custom operation 'softplus' is raw TorchSharp code without an ONNX lowering");
    }

    [TestMethod]
    public void CustomOpWithLowering_Exports()
    {
        var net = new Sequential(new Linear(3, 3), new Doubler());

        ChapterParity.AssertExportsWithParity(net, ChapterParity.Batch(3), rand(1, 3), rand(5, 3));
    }

    [TestMethod]
    public void WhileBodyChangingShape_FailsWithBothShapes()
    {
        var net = new Sequential(new Linear(3, 3), new ShapeChanger());

        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(net, new ExportOptions(ChapterParity.Batch(3))));

        StringAssert.Contains(error.Message, "the While body must keep the loop value's type and shape: float32[batch, 3] became float32[]");
    }

    private sealed class ShapeChanger() : Block(nameof(ShapeChanger))
    {
        protected override Value Forward(Value input) => Flow.While(input, v => v.Abs().Sum() > 1, v => v.Sum());
    }
}
