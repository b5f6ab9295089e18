using OnnxBridge.Core.Layers;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 4: one layer used twice is one set of parameters, in memory, in gradients and in ONNX.</summary>
[TestClass]
[DoNotParallelize]
public sealed class TiedParameterTests
{
    [TestMethod]
    public void SharedLayer_BothPositionsAreTheSameObject_EditsShowInBoth()
    {
        var net = ChapterNetworks.TiedNet(out var shared);
        using var x = rand(2, 4);
        net.forward(x).Dispose();

        Assert.AreSame(net[2], net[4]);
        Assert.AreSame(shared, net[2]);
        using (no_grad()) net.Layer<Linear>(2).Weight![0, 0] = tensor(100f);
        Assert.AreEqual(100f, net.Layer<Linear>(4).Weight![0, 0].item<float>());
        Assert.AreEqual(6, net.parameters().Count(), "the shared weight and bias are listed once");
    }

    [TestMethod]
    public void SharedWeightGradient_IsTheSumOverBothUses()
    {
        random.manual_seed(11);
        var net = ChapterNetworks.TiedNet(out var shared);
        using var x = rand(3, 4);
        net.forward(x).sum().backward();
        var tiedGrad = shared.Weight!.grad!.clone();

        // The same computation by hand, with the shared weight as two independent leaves.
        var p = net.state_dict();
        using var w2a = p["2.weight"].detach().clone().requires_grad_(true);
        using var w2b = p["2.weight"].detach().clone().requires_grad_(true);
        var h = nn.functional.relu(nn.functional.linear(x, p["0.weight"], p["0.bias"]));
        h = nn.functional.relu(nn.functional.linear(h, w2a, p["2.bias"]));
        h = nn.functional.relu(nn.functional.linear(h, w2b, p["2.bias"]));
        nn.functional.linear(h, p["6.weight"], p["6.bias"]).sum().backward();

        Assert.IsTrue(tiedGrad.allclose(w2a.grad! + w2b.grad!, rtol: 1e-6, atol: 1e-7));
        Assert.IsFalse(tiedGrad.allclose(w2a.grad!, rtol: 1e-3, atol: 1e-6), "the second use must contribute");
    }

    [TestMethod]
    public void Export_HoldsTheSharedLayerOnce()
    {
        random.manual_seed(12);
        var net = ChapterNetworks.TiedNet(out _);

        var model = ChapterParity.AssertExportsWithParity(net, ChapterParity.Batch(4), rand(1, 4), rand(7, 4), rand(64, 4));

        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias", "6.weight", "6.bias" }, model.Graph.Initializer.Select(i => i.Name).ToArray());
        Assert.AreEqual(2, model.Graph.Node.Count(n => n.Input.Contains("2.weight")));
    }
}
