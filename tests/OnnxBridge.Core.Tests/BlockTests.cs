using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

[TestClass]
[DoNotParallelize]
public sealed class BlockTests
{
    [TestMethod]
    public void StateDictKeys_Sequential_ArePyTorchs()
    {
        var net = TestModels.SequentialMlp();
        using var x = rand(2, 20);
        net.forward(x).Dispose();

        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "2.weight", "2.bias" }, net.state_dict().Keys.ToArray());
        CollectionAssert.AreEqual(new long[] { 256, 20 }, net.state_dict()["0.weight"].shape);
    }

    [TestMethod]
    public void StateDictKeys_UserBlock_UseRegistrationNames()
    {
        var net = new Mlp();
        using var x = rand(2, 20);
        net.forward(x).Dispose();

        CollectionAssert.AreEqual(new[] { "hidden.weight", "hidden.bias", "out.weight", "out.bias" }, net.state_dict().Keys.ToArray());
    }

    [TestMethod]
    public void DeferredLinear_BeforeFirstCall_HasNoParameters()
    {
        var net = TestModels.SequentialMlp();

        Assert.IsFalse(net.IsBuilt);
        CollectionAssert.AreEqual(new[] { "0", "2" }, net.UnbuiltBlockPaths().ToArray());
        Assert.AreEqual(0, net.parameters().Count());
        Assert.IsNull(((Linear)net[0]).InFeatures);
    }

    [TestMethod]
    public void DeferredLinear_FirstEagerCall_TakesInputSizeFromData()
    {
        var net = TestModels.SequentialMlp();
        using var x = rand(3, 20);

        using var y = net.forward(x);

        Assert.IsTrue(net.IsBuilt);
        Assert.AreEqual(20L, ((Linear)net[0]).InFeatures);
        Assert.AreEqual(256L, ((Linear)net[2]).InFeatures);
        CollectionAssert.AreEqual(new long[] { 3, 10 }, y.shape);
    }

    [TestMethod]
    public void Build_FromInputSpecWithoutData_MaterializesAndReturnsOutputShape()
    {
        var net = TestModels.SequentialMlp();

        var shape = net.Build(TestModels.Input20);

        Assert.IsTrue(net.IsBuilt);
        Assert.AreEqual("[batch, 10]", Dim.Format(shape));
        Assert.AreEqual(20 * 256 + 256 + 256 * 10 + 10, net.parameters().Sum(p => p.numel()));
    }

    [TestMethod]
    public void Build_SymbolicFeatureDimension_FailsNamingTheBlock()
    {
        var net = TestModels.SequentialMlp();

        var error = Assert.ThrowsExactly<ExportException>(() => net.Build(InputSpec.Float32("input", Dim.Named("batch"), Dim.Named("features"))));

        Assert.AreEqual("0", error.BlockPath);
        StringAssert.StartsWith(error.Message, "block '0': Linear(256) takes its input size from the last dimension of its input, but the input shape is [batch, features]");
    }

    [TestMethod]
    public void Build_WrongInputSizeForBuiltLayer_FailsWithBothShapes()
    {
        var net = new Sequential(new Linear(3, 4));

        var error = Assert.ThrowsExactly<ExportException>(() => net.Build(InputSpec.Float32("input", Dim.Named("batch"), 5)));

        Assert.AreEqual("block '0', op Gemm: input [batch, 5] does not fit weight [4, 3]: the last dimension must be 3", error.Message);
    }

    [TestMethod]
    public void Linear_TwoArguments_FollowPyTorchsInOutOrder()
    {
        var layer = new Linear(20, 256);

        CollectionAssert.AreEqual(new long[] { 256, 20 }, layer.Weight!.shape, "nn.Linear(20, 256).weight is [256, 20]");
        Assert.AreEqual("Linear(in_features=20, out_features=256, bias=True)", layer.ToString());
        Assert.AreEqual("Linear(in_features=20, out_features=256, bias=False)", new Linear(20, 256, bias: false).ToString());
    }

    [TestMethod]
    public void Forward_EagerShapeMismatchInNestedBlock_NamesPathOpAndBothShapes()
    {
        var net = new Sequential(new Linear(20, 8), new ReLU(), new Sequential(new Linear(4, 2)));
        using var x = rand(3, 20);

        var error = Assert.ThrowsExactly<ForwardException>(() => net.forward(x));

        Assert.AreEqual("2.0", error.BlockPath);
        Assert.AreEqual("Gemm", error.Op);
        CollectionAssert.AreEqual(new[] { "[3, 8]", "[2, 4]", "[2]" }, error.OperandShapes.ToArray());
        StringAssert.StartsWith(error.Message, "block '2.0', op Gemm: operands of shape [3, 8] and [2, 4] and [2] do not fit: ");
        Assert.IsFalse(error.Message.Contains("frame #", StringComparison.Ordinal), error.Message);
    }

    [TestMethod]
    public void Indexing_ChildrenAndParameters_WithoutCasts()
    {
        var rgnet = new Sequential(new Sequential(new Sequential(new Linear(4, 8), new ReLU())), new Linear(8, 1));

        Assert.AreSame(rgnet.state_dict()["0.0.0.bias"], rgnet[0][0][0].Param("bias"));
        StringAssert.Contains(Assert.ThrowsExactly<ArgumentOutOfRangeException>(() => rgnet[0][3]).Message, "this Sequential has 1 layers, so there is no layer 3");
        StringAssert.Contains(Assert.ThrowsExactly<KeyNotFoundException>(() => rgnet["head"]).Message, "its children are [0, 1]");
        StringAssert.Contains(Assert.ThrowsExactly<KeyNotFoundException>(() => rgnet[1].Param("scale")).Message, "its parameters are [weight, bias]");
        Assert.AreSame(rgnet, rgnet.to(CPU));
    }

    [TestMethod]
    public void Forward_Eager_MatchesTorchSharpLinearAlgebra()
    {
        random.manual_seed(1);
        var net = new Mlp();
        using var x = rand(5, 20);
        using var y = net.forward(x);

        var p = net.state_dict();
        using var expected = nn.functional.linear(nn.functional.relu(nn.functional.linear(x, p["hidden.weight"], p["hidden.bias"])), p["out.weight"], p["out.bias"]);
        Assert.IsTrue(expected.allclose(y, rtol: 0, atol: 0), "the block forward differs from the same algebra written in TorchSharp");
    }

    [TestMethod]
    public void Gradients_FlowThroughBlocks_ToEveryParameter()
    {
        var net = TestModels.SequentialMlp();
        using var x = rand(4, 20);
        net.forward(x).sum().backward();

        foreach (var (name, parameter) in net.named_parameters())
            Assert.IsNotNull(parameter.grad, $"{name} has no gradient");
    }

    [TestMethod]
    public void Builder_InvalidLayers_ReportsEveryProblemAtOnce()
    {
        var builder = Net.Sequential().Linear(0).ReLU().Linear(0, -3);

        var error = Assert.ThrowsExactly<BuilderException>(() => builder.Build());

        CollectionAssert.AreEqual(new[]
        {
            "layer 0 (LazyLinear(0)): out_features must be positive, got 0",
            "layer 2 (Linear(0, -3)): out_features must be positive, got -3",
            "layer 2 (Linear(0, -3)): in_features must be positive, got 0",
        }, error.Errors.ToArray());
    }

    [TestMethod]
    public void Builder_UsedTwice_Throws()
    {
        var builder = Net.Sequential().Linear(2);
        builder.Build();

        Assert.ThrowsExactly<InvalidOperationException>(() => builder.Build());
    }

    [TestMethod]
    public void Builder_WithInput_BuildsWithoutData()
    {
        var net = Net.Sequential().Input(TestModels.Input20).Linear(8).ReLU().Linear(3).Build();

        Assert.IsTrue(net.IsBuilt);
        Assert.AreEqual(8L, ((Linear)net[2]).InFeatures);
    }

    [TestMethod]
    public void Builder_InputThatDoesNotFit_ReportsTheShapes()
    {
        var builder = Net.Sequential().Input(InputSpec.Float32("input", Dim.Named("batch"), 5)).Linear(3, 4);

        var error = Assert.ThrowsExactly<BuilderException>(() => builder.Build());

        Assert.AreEqual("input input:float32[batch,5] does not fit the network: block '0', op Gemm: input [batch, 5] does not fit weight [4, 3]: the last dimension must be 3", error.Message);
    }

    [TestMethod]
    public void Builder_NewLayers_ReportTheirOwnArgumentChecks_AllAtOnce()
    {
        var builder = Net.Sequential().GroupNorm(4, 6).Conv1d(4, 6, 3, groups: 4).ReLU().GELU("fast").AdaptiveAvgPool2d(1);

        var error = Assert.ThrowsExactly<BuilderException>(() => builder.Build());

        Assert.AreEqual(3, error.Errors.Count, string.Join("\n", error.Errors));
        StringAssert.StartsWith(error.Errors[0], "layer 0 (GroupNorm): num_channels (6) must be divisible by num_groups (4)");
        StringAssert.StartsWith(error.Errors[1], "layer 1 (Conv1d): out_channels (6) must be divisible by groups (4)");
        StringAssert.StartsWith(error.Errors[2], "layer 3 (GELU): approximate must be 'none' or 'tanh', got 'fast'");
        Assert.AreEqual("AdaptiveAvgPool2d(output_size=1)", Net.Sequential().AdaptiveAvgPool2d(1).Build()[0].ToString());
    }

    [TestMethod]
    public void Builder_MakesEachLayerOnce_SoItsInitialWeightsAreTheConstructorsUnderTheSameSeed()
    {
        random.manual_seed(5);
        var built = Net.Sequential().Conv1d(2, 3, 3).Embedding(4, 2).Build();
        random.manual_seed(5);
        var direct = new Sequential(new Layers.Conv1d(2, 3, [3]), new Layers.Embedding(4, 2));

        foreach (var (key, tensor) in direct.state_dict())
            Assert.IsTrue(tensor.equal(built.state_dict()[key]).all().item<bool>(), key);
    }

    [TestMethod]
    public void InputSpec_Parse_ReadsNameTypeAndSymbolicDims()
    {
        var spec = InputSpec.Parse("pixels:float32[batch, 8, 8]");

        Assert.AreEqual("pixels", spec.Name);
        Assert.AreEqual("[batch, 8, 8]", Dim.Format(spec.Shape));
        Assert.AreEqual("pixels:float32[batch,8,8]", spec.ToString());
        Assert.ThrowsExactly<FormatException>(() => InputSpec.Parse("pixels[batch]"));
    }
}
