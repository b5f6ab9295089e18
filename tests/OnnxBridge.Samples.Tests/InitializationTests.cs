using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Init;
using OnnxBridge.Core.Layers;
using OnnxBridge.Samples.Chapter.Sections;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 3: built-in, per-layer and custom initialization, direct edits, seeds.</summary>
[TestClass]
[DoNotParallelize]
public sealed class InitializationTests
{
    private static OnnxBridge.Core.Blocks.Sequential Built(long hidden = 8)
    {
        var net = Net.Sequential().Linear(4, hidden).ReLU().Linear(1).Build();
        using var x = rand(2, 4);
        net.forward(x).Dispose();
        return net;
    }

    [TestMethod]
    public void Normal_SetsWeightStatisticsAndZeroBias()
    {
        random.manual_seed(4);
        var net = Built(hidden: 4096);

        net.Initialize(Initializers.Normal(0, 0.01));

        var weight = net.Layer<Linear>(0).Weight!;
        Assert.AreEqual(0.01, weight.std().item<float>(), 0.0005);
        Assert.AreEqual(0.0, weight.mean().item<float>(), 0.0005);
        Assert.AreEqual(0f, net.Layer<Linear>(0).Bias!.abs().max().item<float>());
        Assert.AreEqual(0f, net.Layer<Linear>(2).Bias!.abs().max().item<float>());
    }

    [TestMethod]
    public void ConstantAndXavier_OnDifferentLayers()
    {
        var net = Built();

        net.Initialize(Initializers.Constant(1));
        Assert.IsTrue(net.Layer<Linear>(0).Weight!.eq(1).all().item<bool>());
        Assert.IsTrue(net[0].Param("bias").eq(0).all().item<bool>(), "init_constant zeroes the bias");
        net.Initialize(Initializers.Bias(TensorInit.Constant(7)));
        net[0].Initialize(Initializers.Weight(TensorInit.XavierUniform()));
        net[2].Initialize(Initializers.Weight(TensorInit.Constant(42)));

        var bound = Math.Sqrt(6.0 / (4 + 8));
        Assert.IsTrue(net.Layer<Linear>(0).Weight!.abs().max().item<float>() <= bound);
        Assert.IsFalse(net.Layer<Linear>(0).Weight!.eq(1).all().item<bool>());
        Assert.IsTrue(net.Layer<Linear>(2).Weight!.eq(42).all().item<bool>());
        // d2l's init_xavier and init_42 touch only the weight: the biases keep the 7s.
        Assert.IsTrue(net[0].Param("bias").eq(7).all().item<bool>());
        Assert.IsTrue(net[2].Param("bias").eq(7).all().item<bool>());
    }

    [TestMethod]
    public void CustomInit_KeepsOnlyLargeWeightsAndPrintsNameAndShape()
    {
        random.manual_seed(5);
        var net = Built();
        using var printed = new StringWriter();

        net.Initialize(Initialization.MyInit(printed));

        Assert.AreEqual($"Init weight torch.Size([8, 4]){Environment.NewLine}Init weight torch.Size([1, 8]){Environment.NewLine}", printed.ToString());
        var w = net.Layer<Linear>(0).Weight!;
        Assert.IsTrue((w.eq(0) | (w.abs().ge(5) & w.abs().le(10))).all().item<bool>());
        Assert.IsTrue(w.ne(0).any().item<bool>());
    }

    [TestMethod]
    public void DirectEdits_ChangeTheParameterData()
    {
        var net = Built();
        net.Initialize(Initializers.Constant(1));
        var w = net.Layer<Linear>(0).Weight!;

        using (no_grad())
        {
            w.add_(1);
            w[0, 0] = tensor(42f);
        }

        CollectionAssert.AreEqual(new float[] { 42, 2, 2, 2 }, w[0].data<float>().ToArray());
    }

    [TestMethod]
    public void Seed_MakesInitializationReproducible()
    {
        random.manual_seed(9);
        var a = Built();
        random.manual_seed(9);
        var b = Built();
        var c = Built();

        Assert.IsTrue(a.Layer<Linear>(0).Weight!.allclose(b.Layer<Linear>(0).Weight!, rtol: 0, atol: 0));
        Assert.IsFalse(a.Layer<Linear>(0).Weight!.allclose(c.Layer<Linear>(0).Weight!, rtol: 0, atol: 0));
    }
}
