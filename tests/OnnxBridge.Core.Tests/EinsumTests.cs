using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Einsum's equation checks and its export at symbolic sizes; its values and gradients against
/// PyTorch are in <see cref="OpConformanceTests"/> (tests/Conformance/torch_ops.py).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class EinsumTests
{
    [TestMethod]
    [DataRow("ij,jk->ik", new long[] { 3, 4 }, new long[] { 5, 6 }, "'j' is 4 in one place and 5 in operand 2 of shape [5, 6]")]
    [DataRow("ij->ik", new long[] { 3, 4 }, null, "the output's 'k' is in no input term")]
    [DataRow("ij,jk->ik", new long[] { 3, 4 }, null, "2 input term(s) for 1 operand(s)")]
    [DataRow("ijk->i", new long[] { 3, 4 }, null, "term 'ijk' has 3 letter(s) for operand 1 of shape [3, 4]")]
    [DataRow("i1->i", new long[] { 3, 4 }, null, "'1' is not a letter")]
    [DataRow("...ij->ij", new long[] { 2, 3, 4 }, null, "'...' dimensions [2] must appear in the output")]
    public void BadEquations_AreRefused_NamingTheEquationAndShapes_EagerlyAndAtExport(string equation, long[] first, long[]? second, string problem)
    {
        long[][] shapes = second is null ? [first] : [first, second];

        var eager = Assert.ThrowsExactly<ForwardException>(() => Ops.Einsum(equation, [.. shapes.Select(s => Value.Eager(randn(s)))]));
        StringAssert.Contains(eager.Message, problem);
        StringAssert.Contains(eager.Message, "Einsum");

        var block = new EinsumBlock(equation, shapes.Length);
        var specs = shapes.Select((s, i) => InputSpec.Float32($"x{i}", [.. s.Select(Dim.Known)])).ToArray();
        var export = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(block, new ExportOptions(specs[0], specs[1..])));
        StringAssert.Contains(export.Message, problem);
    }

    [TestMethod]
    public void BatchedProduct_ExportsWithASymbolicBatch_AndRunsAtAnyBatchUnderOnnxRuntime()
    {
        var block = new EinsumBlock("bij , jk", 2);   // implicit output: the letters used once, in order (b, i, k)
        var model = OnnxExporter.Export(block, new ExportOptions(InputSpec.Float32("x0", Dim.Named("batch"), 3, 4), InputSpec.Float32("x1", 4, 5)));

        var node = model.Graph.Node.Single(n => n.OpType == "Einsum");
        Assert.AreEqual("bij,jk->bik", node.Attribute.Single(a => a.Name == "equation").S.ToStringUtf8(), "spaces removed, the implicit output written out");
        var output = model.Graph.Output[0].Type.TensorType.Shape.Dim;
        Assert.AreEqual("batch", output[0].DimParam);
        CollectionAssert.AreEqual(new long[] { 3, 5 }, output.Skip(1).Select(d => d.DimValue).ToArray());

        using var session = OnnxModelSession.Open(model.ToByteArray());
        var w = randn(4, 5);
        foreach (var batch in new[] { 1, 7 })
        {
            var x = randn(batch, 3, 4);
            var ran = session.Run([new NamedTensor("x0", TensorConvert.ToHost(x)), new NamedTensor("x1", TensorConvert.ToHost(w))])[0].Tensor;
            TensorAssert.Close(x.matmul(w), TensorConvert.ToTorch(ran), $"batch {batch}");
        }
    }

    private sealed class EinsumBlock(string equation, int operands) : MultiInputBlock("Einsum")
    {
        public override int InputCount => operands;

        protected override Value Forward(IReadOnlyList<Value> values) => Ops.Einsum(equation, [.. values]);
    }
}
