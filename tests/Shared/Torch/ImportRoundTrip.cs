using Google.Protobuf;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Tests.Shared;

/// <summary>
/// Export → import → export (issue #15): a parity bundle's model is imported as a block, which must
/// give the bundle's outputs (the original network's, from TorchSharp) eagerly, then is exported
/// again and must give them under ONNX Runtime. fp32 tolerance 1e-5 + 1e-5·|ref|; exact for integers.
/// </summary>
internal static class ImportRoundTrip
{
    public static void AssertRoundTrips(string bundleFolder)
    {
        var bundle = OnnxTestCase.Read(bundleFolder);
        var block = OnnxImporter.Import(bundle.ModelPath);
        block.eval();
        using (no_grad())
        {
            foreach (var (set, n) in bundle.DataSets.Select((s, n) => (s, n)))
            {
                var outputs = block.forward_all([.. set.Inputs.Select(i => TensorConvert.ToTorch(i.Tensor))]);
                AssertMatches(bundleFolder, $"imported, eager, data set {n}", set.Outputs, [.. outputs.Select(TensorConvert.ToHost)]);
            }
        }
        var model = Core.Export.OnnxExporter.Export(block, block.ExportOptions());
        using var session = OnnxModelSession.Open(model.ToByteArray());
        foreach (var (set, n) in bundle.DataSets.Select((s, n) => (s, n)))
            AssertMatches(bundleFolder, $"re-exported, ONNX Runtime, data set {n}", set.Outputs, [.. session.Run(set.Inputs).Select(o => o.Tensor)]);

        // Where the structure is recognized (a Sequential of layers), the layers export the very graph.
        if (OnnxImporter.AsSequential(block) is { } sequential)
        {
            sequential.eval();
            var again = Core.Export.OnnxExporter.Export(sequential, block.ExportOptions());
            CollectionAssert.AreEqual(bundle.Model.Graph.Node.Select(n => n.OpType).ToArray(), again.Graph.Node.Select(n => n.OpType).ToArray(), $"{bundleFolder}: the recognized Sequential's ops");
            CollectionAssert.AreEquivalent(bundle.Model.Graph.Initializer.Select(i => i.Name).ToArray(), again.Graph.Initializer.Select(i => i.Name).ToArray(), $"{bundleFolder}: the recognized Sequential's initializers");
            using (no_grad())
            {
                var outputs = sequential.forward_all([.. bundle.DataSets[0].Inputs.Select(i => TensorConvert.ToTorch(i.Tensor))]);
                AssertMatches(bundleFolder, "recognized Sequential, eager", bundle.DataSets[0].Outputs, [.. outputs.Select(TensorConvert.ToHost)]);
            }
        }
    }

    private static void AssertMatches(string bundle, string where, IReadOnlyList<NamedTensor> expected, IReadOnlyList<Onnx.Tensors.HostTensor> actual)
    {
        Assert.AreEqual(expected.Count, actual.Count, $"{bundle}: {where}: output count");
        for (int i = 0; i < expected.Count; i++)
        {
            var parity = TensorComparer.Compare(expected[i].Name, expected[i].Tensor, actual[i], Tolerance.For(expected[i].Tensor.ElementType));
            Assert.IsTrue(parity.Passed, $"{bundle}: {where}, output '{expected[i].Name}': {parity.Problem ?? $"{parity.Violations} elements off, max |Δ| {parity.MaxAbsoluteError:0.0e+0}"}");
        }
    }
}
