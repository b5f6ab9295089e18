using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Samples.Sequences;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// The Sequences sample (issue #16), LSTM and Transformer: each reaches its stated accuracy (the LSTM
/// ≥ 95 % at every length, 100 % measured with four seeds; the Transformer ≥ 85 % at the trained
/// lengths and ≥ 65 % at 24 — measured 92.4–100 % and 81.6–96.8 % over four seeds, so a machine whose
/// kernels change the trajectory keeps a margin), ONNX Runtime classes every test string as TorchSharp does, and the host serves
/// requests of different sequence lengths — 8 and 24, the second one no training or export saw —
/// with TorchSharp's outputs (fp32 tolerance 1e-5 + 1e-5·|ref|).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class SequenceSampleServingTests
{
    [TestMethod]
    [DataRow("lstm")]
    [DataRow("transformer")]
    public async Task SequenceSample_ReachesItsAccuracy_AndIsServedAtEveryLength(string model)
    {
        using var artifacts = new TempFolder();
        var result = SequenceExperiment.Run(artifacts.Path, model: model);

        foreach (var (length, accuracy) in result.Accuracy)
        {
            var floor = model == "lstm" ? 0.95 : SequenceExperiment.TrainedLengths.Contains(length) ? 0.85 : 0.65;
            Assert.IsTrue(accuracy >= floor, $"{model}: test accuracy {accuracy:P2} at length {length}; the README states at least {floor:P0}");
        }
        Assert.IsTrue(result.Parity.Passed, result.Parity.Format());
        Assert.AreEqual(0, result.PredictionMismatches, $"of {result.PredictionsCompared} test strings");

        await using var server = await TestServer.StartAsync(addModels: repository =>
            TempFolder.CopyTree(Path.Combine(result.Repository, "brackets"), Path.Combine(repository, "brackets")));
        var sets = OnnxTestCase.Read(result.BundlePath).DataSets;
        foreach (var length in new[] { 8, 24 })
        {
            var set = sets[Array.IndexOf(SequenceExperiment.TestLengths, length)];
            var tokens = set.Inputs[0].Tensor.AsSpan<long>()[..(4 * length)].ToArray();
            var response = await server.PostAsync("/v2/models/brackets/infer",
                $$"""{"inputs":[{"name":"tokens","shape":[4,{{length}}],"datatype":"INT64","data":[{{string.Join(",", tokens)}}]}]}""");
            Assert.AreEqual(200, response.Status, response.Body?.ToJsonString());
            Assert.AreEqual("[4,2]", response.Body!["outputs"]![0]!["shape"]!.ToJsonString());
            var reference = Onnx.Tensors.HostTensor.Create<float>(set.Outputs[0].Tensor.AsSpan<float>()[..8], 4, 2);
            var parity = TensorComparer.Compare("logits", reference, Onnx.Tensors.HostTensor.Create<float>([.. Requests.Floats(response.Body)], 4, 2), Tolerance.Float32);
            Assert.IsTrue(parity.Passed, $"length {length}: served vs TorchSharp, max |Δ| {parity.MaxAbsoluteError}");
        }
    }
}
