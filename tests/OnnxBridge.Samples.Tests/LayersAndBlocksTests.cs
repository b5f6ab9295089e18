using OnnxBridge.Core.Layers;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 1: MLP, MySequential, FixedHiddenMLP.</summary>
[TestClass]
[DoNotParallelize]
public sealed class LayersAndBlocksTests
{
    [TestMethod]
    public void MySequential_ChainsChildrenInOrder_WithIndexKeys()
    {
        random.manual_seed(1);
        var net = new MySequential(new Linear(256), new ReLU(), new Linear(10));
        using var x = rand(2, 20);

        using var y = net.forward(x);

        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, net.state_dict().Keys.ToArray());
        var p = net.state_dict();
        using var expected = nn.functional.linear(nn.functional.relu(nn.functional.linear(x, p["0.weight"], p["0.bias"])), p["2.weight"], p["2.bias"]);
        Assert.IsTrue(expected.allclose(y, rtol: 0, atol: 0));
    }

    [TestMethod]
    public void FixedHiddenMlp_RandWeight_IsABufferNoOptimizerChanges()
    {
        random.manual_seed(2);
        var net = new FixedHiddenMlp();
        using var x = rand(2, 20);
        net.forward(x).Dispose();
        var randBefore = net.RandWeight.clone();
        var linearBefore = net.Linear.Weight!.clone();

        CollectionAssert.AreEqual(new[] { "linear.weight", "linear.bias" }, net.named_parameters().Select(p => p.name).ToArray());
        CollectionAssert.AreEqual(new[] { "linear.weight", "linear.bias" }, net.state_dict().Keys.ToArray(), "PyTorch's state dict has no rand_weight");
        using var optimizer = optim.SGD(net.parameters(), 0.1);
        net.forward(x).backward();
        optimizer.step();

        Assert.IsTrue(net.RandWeight.allclose(randBefore, rtol: 0, atol: 0), "rand_weight changed");
        Assert.IsFalse(net.Linear.Weight!.allclose(linearBefore, rtol: 0, atol: 0), "the shared linear layer did not train");
    }

    [TestMethod]
    public void FixedHiddenMlp_Forward_MatchesTheChaptersAlgorithm()
    {
        random.manual_seed(3);
        var net = new FixedHiddenMlp();
        using var x = rand(2, 20) * 10;

        var actual = net.forward(x).item<float>();

        var (w, b) = (net.Linear.Weight!, net.Linear.Bias!);
        var h = nn.functional.linear(x, w, b);
        h = nn.functional.relu(h.matmul(net.RandWeight) + 1);
        h = nn.functional.linear(h, w, b); // the same weights a second time
        var halvings = 0;
        while (h.abs().sum().item<float>() > 1) { h /= 2; halvings++; }
        Assert.AreEqual(h.sum().item<float>(), actual);
        Assert.IsTrue(halvings > 0, "the example should exercise the loop");
    }
}
