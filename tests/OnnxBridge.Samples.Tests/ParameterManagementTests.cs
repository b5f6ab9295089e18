using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Samples.Chapter.Blocks;
using Parameter = TorchSharp.Modules.Parameter;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 2: parameter access by index, name and state dict; nested blocks; the structure print.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ParameterManagementTests
{
    [TestMethod]
    public void Access_ByIndexNameAndStateDict_ReachesTheSameParameter()
    {
        var net = Net.Sequential().Linear(8).ReLU().Linear(1).Build();
        using var x = rand(2, 4);
        net.forward(x).Dispose();

        var bias = net.Layer<Linear>(2).Bias!;
        Assert.IsInstanceOfType<Parameter>(bias);
        CollectionAssert.AreEqual(new[] { "weight", "bias" }, net[2].state_dict().Keys.ToArray());
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, net.named_parameters().Select(p => p.name).ToArray());
        Assert.AreEqual(bias.item<float>(), net.state_dict()["2.bias"].item<float>());
        Assert.ThrowsExactly<InvalidCastException>(() => net.Layer<Linear>(1));
    }

    [TestMethod]
    public void Gradient_BeforeBackward_IsNull_AfterBackward_IsSet()
    {
        var net = Net.Sequential().Linear(8).ReLU().Linear(1).Build();
        using var x = rand(2, 4);
        net.forward(x).Dispose();
        Assert.IsNull(net.Layer<Linear>(2).Weight!.grad);

        net.forward(x).sum().backward();

        Assert.IsNotNull(net.Layer<Linear>(2).Weight!.grad);
        CollectionAssert.AreEqual(new long[] { 1, 8 }, net.Layer<Linear>(2).Weight!.grad!.shape);
    }

    [TestMethod]
    public void NestedBlocks_KeysAndIndexing_FollowTheRegistrationNames()
    {
        var rgnet = ChapterNetworks.RgNet();
        using var x = rand(2, 4);
        rgnet.forward(x).Dispose();

        var nested = ((Sequential)((Sequential)rgnet[0])[1]).Layer<Linear>(0).Bias!;

        CollectionAssert.Contains(rgnet.state_dict().Keys.ToArray(), "0.block 0.0.weight");
        CollectionAssert.Contains(rgnet.state_dict().Keys.ToArray(), "1.bias");
        Assert.AreEqual(4 * 2 * 2 + 2, rgnet.state_dict().Count);
        Assert.IsTrue(nested.allclose(rgnet.state_dict()["0.block 1.0.bias"], rtol: 0, atol: 0));
    }

    [TestMethod]
    public void StructurePrint_LooksLikePyTorchsRepr()
    {
        var text = ChapterNetworks.RgNet().ToString();

        StringAssert.StartsWith(text, "Sequential(\n  (0): Sequential(\n    (block 0): Sequential(\n      (0): Linear(in_features=4, out_features=8, bias=True)\n      (1): ReLU()\n");
        StringAssert.EndsWith(text, "  (1): Linear(in_features=4, out_features=1, bias=True)\n)");
    }

    [TestMethod]
    public void Append_DuplicateName_IsRefused()
    {
        var net = new Sequential();
        net.Append("block 0", new ReLU());

        var error = Assert.ThrowsExactly<ArgumentException>(() => net.Append("block 0", new ReLU()));

        StringAssert.StartsWith(error.Message, "this Sequential already has a child named 'block 0'");
    }
}
