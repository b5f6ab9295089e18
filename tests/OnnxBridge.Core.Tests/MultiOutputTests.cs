using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Inspection;
using OnnxBridge.Onnx.Repository;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.PluginBlocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>Blocks with several outputs (<see cref="TwoHeads"/>): one named graph output each, through every writer and checker.</summary>
[TestClass]
[DoNotParallelize]
public sealed class MultiOutputTests
{
    private static readonly InputSpec Input = InputSpec.Float32("x", Dim.Named("batch"), 4);

    [TestMethod]
    public void ThreeOutputs_ExportAsNamedGraphOutputs_WithParityForEach()
    {
        using var temp = new TempFolder();
        random.manual_seed(61);
        var net = new TwoHeads();
        var options = new ExportOptions(Input) { OutputNames = ["probabilities", "score", "features"] };

        var model = ParityBundle.Write(temp.Path, net, options, [rand(1, 4), rand(6, 4)]);
        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        CollectionAssert.AreEqual(new[] { "probabilities", "score", "features" }, model.Graph.Output.Select(o => o.Name).ToArray());
        Assert.IsTrue(report.Passed, report.Format());
        CollectionAssert.AreEqual(new[] { "probabilities", "score", "features" }, report.DataSets[1].Outputs.Select(o => o.Name).ToArray());
        CollectionAssert.AreEqual(new[] { "[batch, 3]", "[batch, 1]", "[batch, 8]" },
            ModelInfo.Of(model).Outputs.Select(o => "[" + string.Join(", ", o.Shape) + "]").ToArray());
        var config = ModelRepository.Config("heads", model);
        foreach (var name in new[] { "probabilities", "score", "features" }) StringAssert.Contains(config, $"name: \"{name}\"");
        OnnxChecker.AssertValid(temp.File(OnnxTestCase.ModelFileName));
    }

    [TestMethod]
    public void EagerForwardAll_MatchesEveryOutputOfTheExport()
    {
        random.manual_seed(62);
        var net = new TwoHeads();
        net.eval();
        using var x = rand(5, 4);

        var eager = net.forward_all(x);
        var model = OnnxExporter.Export(net, new ExportOptions(Input));
        using var session = OnnxModelSession.Open(Google.Protobuf.MessageExtensions.ToByteArray(model));
        var outputs = session.Run([new NamedTensor("x", TensorConvert.ToHost(x))]);

        CollectionAssert.AreEqual(new[] { "output_0", "output_1", "output_2" }, outputs.Select(o => o.Name).ToArray());
        for (int i = 0; i < 3; i++)
            Assert.IsTrue(TensorComparer.Compare(outputs[i].Name, TensorConvert.ToHost(eager[i]), outputs[i].Tensor, Tolerance.Float32).Passed, outputs[i].Name);
    }

    [TestMethod]
    public void OutputNames_OfTheWrongCount_AreRefused()
    {
        var error = Assert.ThrowsExactly<ExportException>(() => OnnxExporter.Export(new TwoHeads(), new ExportOptions(Input) { OutputNames = ["a", "b"] }));

        Assert.AreEqual("OutputNames gives 2 names (a, b) for 3 outputs", error.Message);
    }
}
