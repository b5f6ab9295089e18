using System.Globalization;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Samples.Digits;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Host.Tests;

/// <summary>
/// The Digits sample's ResNet and denoising autoencoder, trained by the sample's own recipe and
/// written into its model repository, are served by the host: the whole test split, sent as JSON
/// requests of 64 rows, comes back as TorchSharp computed it (the parity bundle's reference outputs).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class DigitsSampleServingTests
{
    [TestMethod]
    [DataRow("resnet", 10)]
    [DataRow("autoencoder", 64)]
    [DataRow("imported", 10)]   // the PyTorch-made CNN, imported from ONNX and fine-tuned
    public async Task DigitsSample_TrainedByTheSample_IsServedAsTorchSharpComputesIt(string network, int outputWidth)
    {
        using var artifacts = new TempFolder();
        var result = DigitsExperiment.Run(network, artifacts.Path);
        var testSplit = OnnxTestCase.Read(result.Job.BundlePath).DataSets[0];
        var (input, reference) = (testSplit.Inputs[0].Tensor, testSplit.Outputs[0].Tensor);
        var rows = input.Shape[0];

        await using var server = await TestServer.StartAsync(addModels: repository =>
            TempFolder.CopyTree(Path.Combine(result.Repository, $"digits_{network}"), Path.Combine(repository, $"digits_{network}")));
        var metadata = await server.GetAsync($"/v2/models/digits_{network}");
        Assert.IsTrue(metadata.Body!["parameters"]!["dynamic_batching"]!.GetValue<bool>(), "the batch dimension stays named through the network, so requests are batched");
        // The repository's config allows batches of up to 64 rows: the split goes in requests of 64.
        var pixels = input.ToArray<float>();
        var served = new List<float>();
        for (long start = 0; start < rows; start += 64)
        {
            var count = Math.Min(64, rows - start);
            var data = string.Join(",", pixels.Skip((int)start * 64).Take((int)count * 64).Select(v => v.ToString("R", CultureInfo.InvariantCulture)));
            var response = await server.PostAsync($"/v2/models/digits_{network}/infer",
                $$"""{"inputs":[{"name":"pixels","shape":[{{count}},64],"datatype":"FP32","data":[{{data}}]}]}""");
            Assert.AreEqual(200, response.Status, response.Body?.ToJsonString());
            Assert.AreEqual($"[{count},{outputWidth}]", response.Body!["outputs"]![0]!["shape"]!.ToJsonString());
            served.AddRange(Requests.Floats(response.Body));
        }

        var parity = TensorComparer.Compare("output", reference, Onnx.Tensors.HostTensor.Create<float>([.. served], rows, outputWidth), Tolerance.Float32);
        Assert.IsTrue(parity.Passed, $"served vs TorchSharp: {parity.Violations} elements outside {Tolerance.Float32}, max |Δ| {parity.MaxAbsoluteError}");
    }
}
