using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Init;
using OnnxBridge.Core.Layers;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 9: every network of the chapter exports, passes onnx's full check and matches under ONNX Runtime at batch 1, 7 and 64.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ExportAllTests
{
    private static Tensor[] Inputs(long features) => [rand(1, features), rand(7, features), rand(64, features)];

    [TestMethod]
    public void Export_Mlp() => ChapterParity.AssertExportsWithParity(new Mlp(), ChapterParity.Batch(20), Inputs(20));

    [TestMethod]
    public void Export_MySequential() =>
        ChapterParity.AssertExportsWithParity(new MySequential(new Linear(256), new ReLU(), new Linear(10)), ChapterParity.Batch(20), Inputs(20));

    [TestMethod]
    public void Export_RgNet() => ChapterParity.AssertExportsWithParity(ChapterNetworks.RgNet(), ChapterParity.Batch(4), Inputs(4));

    [TestMethod]
    public void Export_CenteredLayerNetwork() =>
        ChapterParity.AssertExportsWithParity(new Sequential(new Linear(128), new CenteredLayer()), ChapterParity.Batch(8), Inputs(8));

    [TestMethod]
    public void Export_MyLinearNetwork() =>
        ChapterParity.AssertExportsWithParity(new Sequential(new MyLinear(64, 8), new MyLinear(8, 1)), ChapterParity.Batch(64), Inputs(64));

    [TestMethod]
    public void Export_Chimera_NestsALoopInsideSequentials() =>
        ChapterParity.AssertExportsWithParity(ChapterNetworks.Chimera(), ChapterParity.Batch(20), Inputs(20));

    [TestMethod]
    public void Export_FixedHiddenMlp_IsALoopThatFollowsZeroOneAndManyHalvings()
    {
        var net = new FixedHiddenMlp();
        // Weights of 2e-3 make the loop input's |X|.sum() = 400·2e-3·batch for X = 0: 0.8 at batch 1
        // (no halving), 1.6 at batch 2 (one); large inputs need many.
        net.Initialize(Initializers.Constant(2e-3));
        net.Build(ChapterParity.Batch(20)); // the deferred layer materializes and takes the constant
        var inputs = new[] { zeros(1, 20), zeros(2, 20), rand(64, 20) * 1000 };
        CollectionAssert.AreEqual(new[] { 0, 1 }, inputs[..2].Select(x => Halvings(net, x)).ToArray());
        Assert.IsTrue(Halvings(net, inputs[2]) >= 10, $"expected many halvings, got {Halvings(net, inputs[2])}");

        var model = ChapterParity.AssertExportsWithParity(net, ChapterParity.Batch(20), inputs);

        var loop = model.Graph.Node.Single(n => n.OpType == "Loop");
        Assert.AreEqual("", loop.Input[0], "no trip count: the loop runs until its condition is false");
        CollectionAssert.AreEqual(new[] { "Abs", "ReduceSum", "Greater" }, model.Graph.Node.Select(n => n.OpType).Where(t => t is "Abs" or "ReduceSum" or "Greater").Take(3).ToArray());
        var body = loop.Attribute.Single(a => a.Name == "body").G;
        CollectionAssert.IsSubsetOf(new[] { "Div", "Abs", "ReduceSum", "Greater" }, body.Node.Select(n => n.OpType).ToArray());
        Assert.AreEqual(2, model.Graph.Node.Count(n => n.Input.Contains("linear.weight")), "the shared linear layer is one initializer used twice");
        Assert.IsTrue(model.Graph.Initializer.Any(i => i.Name == "rand_weight"));
    }

    /// <summary>How many times the chapter's loop halves X for this input (halving is exact in floating point).</summary>
    private static int Halvings(FixedHiddenMlp net, Tensor x)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (w, b) = (net.Linear.Weight!, net.Linear.Bias!);
        var h = nn.functional.linear(nn.functional.relu(nn.functional.linear(x, w, b).matmul(net.RandWeight) + 1), w, b);
        var sum = h.abs().sum().item<float>();
        var count = 0;
        while (sum > 1) { sum /= 2; count++; }
        return count;
    }
}
