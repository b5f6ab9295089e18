using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.PluginBlocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// The networks #12 says a newcomer can write — a ResNet basic-block CNN, a 1-D convolutional text
/// classifier over Embedding, a GELU/LayerNorm MLP, a block with several outputs — each trained
/// (loss falls), saved and strictly reloaded (identical outputs), exported and verified under ONNX
/// Runtime. Serving them is <c>Host.Tests/EndpointTests.EverydayNetworks_AreServed</c>.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class EverydayNetworkTests
{
    public static IEnumerable<object[]> Networks()
    {
        yield return ["resnet", (Func<Block>)EverydayNetworks.SmallResNet, EverydayNetworks.ImageInput];
        yield return ["text-cnn", (Func<Block>)(() => new TextCnn()), EverydayNetworks.TokenInput];
        yield return ["gelu-layernorm-mlp", (Func<Block>)EverydayNetworks.GeluLayerNormMlp, EverydayNetworks.FeatureInput];
        yield return ["two-heads", (Func<Block>)(() => new TwoHeads()), EverydayNetworks.HeadsInput];
    }

    [TestMethod]
    [DynamicData(nameof(Networks))]
    public void Network_Trains_SavesAndReloads_ExportsAndVerifies(string name, Func<Block> create, InputSpec input)
    {
        using var temp = new TempFolder();
        random.manual_seed(71);
        var net = create();
        using var x = Sample(input, 32);
        using var targets = randint(0, 3, [32]);

        // Train: 40 Adam steps on one fixed batch; a network that trains memorizes it.
        net.train();
        using var optimizer = optim.Adam(net.parameters(), 0.01);
        var losses = new List<double>();
        for (int step = 0; step < 40; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = Loss(net, x, targets);
            loss.backward();
            optimizer.step();
            losses.Add(loss.item<float>());
        }
        Assert.IsTrue(losses[^1] < 0.8 * losses[0], $"{name}: the loss went from {losses[0]:0.000} to {losses[^1]:0.000}");

        // Save and reload strictly into a fresh instance: the same outputs, bit for bit.
        net.eval();
        StateDicts.Save(net, temp.File("net.safetensors"));
        var reloaded = create();
        StateDicts.Load(reloaded, temp.File("net.safetensors"));
        reloaded.eval();
        using (no_grad())
        {
            var (a, b) = (Outputs(net, x), Outputs(reloaded, x));
            for (int i = 0; i < a.Length; i++) Assert.IsTrue(a[i].equal(b[i]).all().item<bool>(), $"{name}: output {i} differs after reload");
        }

        // Export and verify under ONNX Runtime, at two batch sizes.
        ParityBundle.Write(temp.File("bundle"), reloaded, new ExportOptions(input), [Sample(input, 1), Sample(input, 5)]);
        var report = BundleVerifier.Verify(temp.File("bundle"), ExecutionProviderPolicy.Cpu, Tolerance.Float32);
        Assert.IsTrue(report.Passed, report.Format());
        OnnxChecker.AssertValid(temp.File("bundle/model.onnx"));
        ImportRoundTrip.AssertRoundTrips(temp.File("bundle"));
    }

    private static Tensor Sample(InputSpec spec, long batch)
    {
        long[] shape = [.. spec.Shape.Select(d => d.Size ?? batch)];
        return spec.ElementType == Onnx.Proto.TensorProto.Types.DataType.Int64 ? randint(0, 50, shape) : randn(shape);
    }

    private static Tensor[] Outputs(Block net, Tensor x) => net.forward_all(x);

    /// <summary>Cross-entropy for a classifier; for the three-output block, its class head plus the score against a target.</summary>
    private static Tensor Loss(Block net, Tensor x, Tensor targets)
    {
        if (net is not MultiOutputBlock heads) return nn.functional.cross_entropy(net.forward(x), targets);
        var outputs = heads.forward_all(x);
        return nn.functional.nll_loss(outputs[0].log(), targets) + nn.functional.mse_loss(outputs[1].squeeze(1), targets.to(ScalarType.Float32) / 2);
    }
}
