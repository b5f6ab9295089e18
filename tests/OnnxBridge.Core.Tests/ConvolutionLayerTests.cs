using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// The layers a small CNN needs (Conv2d, MaxPool2d, Flatten, Unflatten, BatchNorm, Dropout,
/// Normalization): PyTorch semantics eagerly, and ONNX Runtime (CPU) parity within
/// |Δ| ≤ 1e-5 + 1e-5·|ref| after export.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ConvolutionLayerTests
{
    private static readonly InputSpec Pixels = InputSpec.Float32("pixels", Dim.Named("batch"), 64);

    private static Sequential SmallCnn() => Net.Sequential()
        .Add(new Normalization(64))
        .Unflatten(1, 8, 8)
        .LazyConv2d(6, 3, padding: 1).BatchNorm2d(6).ReLU().MaxPool2d(2)
        .LazyConv2d(8, 3).ReLU()
        .Flatten().Dropout(0.3).Linear(10)
        .Input(Pixels)
        .Build();

    [TestMethod]
    public void Build_SmallCnn_InfersChannelsAndFlattenedSize()
    {
        var net = SmallCnn();

        Assert.AreEqual(1L, net.Layer<Conv2d>(2).InChannels);
        Assert.AreEqual(6L, net.Layer<Conv2d>(6).InChannels);
        Assert.AreEqual(8L * 2 * 2, net.Layer<Linear>(10).InFeatures);
        Assert.AreEqual("[batch, 10]", Dim.Format(net.Build(Pixels)));
    }

    [TestMethod]
    public void Conv2d_MatchesTorchSharpFunctional()
    {
        random.manual_seed(3);
        var conv = new Conv2d(2, 4, 3, stride: 2, padding: 1);
        var x = randn(5, 2, 9, 9);

        using var y = conv.forward(x);

        var expected = nn.functional.conv2d(x, conv.Weight!, conv.Bias, strides: [2, 2], padding: [1, 1]);
        Assert.IsTrue(y.allclose(expected, rtol: 0, atol: 0));
        CollectionAssert.AreEqual(new long[] { 5, 4, 5, 5 }, y.shape);
        var bound = 1.0 / Math.Sqrt(2 * 3 * 3);
        Assert.IsTrue(conv.Weight!.abs().max().item<float>() <= bound, "PyTorch's U(-1/sqrt(fan_in), 1/sqrt(fan_in)) initialization");
    }

    [TestMethod]
    public void Parity_SmallCnnAfterTrainingSteps_WithinFp32Tolerance()
    {
        random.manual_seed(21);
        using var temp = new TempFolder();
        var net = SmallCnn();
        net.Layer<Normalization>(0).Adapt(rand(100, 64) * 16);
        TrainFewSteps(net, () => rand(16, 64) * 16);

        ParityBundle.Write(temp.Path, net, new ExportOptions(Pixels), [rand(1, 64) * 16, rand(7, 64) * 16, rand(64, 64) * 16]);
        OnnxChecker.AssertValid(temp.File(OnnxTestCase.ModelFileName));
        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        Assert.IsTrue(report.Passed, report.Format());
        var ops = OnnxTestCase.Read(temp.Path).Model.Graph.Node.Select(n => n.OpType).Where(o => o != "Constant").ToArray();
        CollectionAssert.AreEqual(new[] { "Sub", "Div", "Reshape", "Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "Relu", "Flatten", "Gemm" }, ops);
    }

    [TestMethod]
    public void LazyBatchNorm_TakesItsFeaturesFromTheFirstInput_InPyTorchsKeyOrder_AndFromBuildAtTheConvertedType()
    {
        var lazy = Net.Sequential().LazyConv2d(4, 3).LazyBatchNorm2d().Build();
        var printedBefore = lazy[1].ToString();
        var converted = Net.Sequential().Linear(5, 6).LazyBatchNorm1d().Build().to(ScalarType.Float16);

        lazy.forward(randn(2, 1, 6, 6));
        var halfState = Net.Sequential().Linear(5, 6).BatchNorm1d(6).Build().to(ScalarType.Float16).state_dict().Select(e => (e.Key, TensorConvert.ToHost(e.Value))).ToList();
        StateDicts.Load(converted, halfState, "a float16 state dict"); // strict: every dtype must match

        // PyTorch 1.13: repr(nn.LazyBatchNorm2d()) and repr of it after a [2, 4, ...] input.
        Assert.AreEqual("LazyBatchNorm2d(0, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", printedBefore);
        Assert.AreEqual("BatchNorm2d(4, eps=1e-05, momentum=0.1, affine=True, track_running_stats=True)", lazy[1].ToString());
        CollectionAssert.AreEqual(new[] { "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked" },
            lazy.state_dict().Keys.Where(k => k.StartsWith("1.", StringComparison.Ordinal)).ToArray(), "PyTorch's order");
        Assert.AreEqual(1L, lazy.state_dict()["1.num_batches_tracked"].item<long>(), "the first (training-mode) forward counted");
        Assert.AreEqual(ScalarType.Float16, converted.state_dict()["1.running_var"].dtype, "materialized for the load in the type the network was converted to");
    }

    [TestMethod]
    public void BatchNorm_TrainingUpdatesRunningStatistics_EvalUsesThem()
    {
        random.manual_seed(5);
        var bn = new BatchNorm(3, inputRank: 2);
        var x = randn(256, 3) * 2 + 5;

        bn.train();
        using var normalized = bn.forward(x);
        var runningMean = bn.get_buffer("running_mean")!.clone();

        Assert.IsTrue(normalized.mean([0]).abs().max().item<float>() < 1e-5, "training mode normalizes with the batch's own statistics");
        Assert.IsTrue(runningMean.allclose(x.mean([0]) * 0.1, rtol: 1e-5, atol: 1e-6), "running mean moved 10% (momentum 0.1) toward the batch mean");
        Assert.AreEqual(1L, bn.get_buffer("num_batches_tracked")!.item<long>());

        bn.eval();
        using var inference = bn.forward(x);
        var expected = (x - runningMean) / (bn.get_buffer("running_var")! + 1e-5).sqrt();
        Assert.IsTrue(inference.allclose(expected, rtol: 1e-5, atol: 1e-5), "eval mode uses the running statistics");
        Assert.AreEqual(1L, bn.get_buffer("num_batches_tracked")!.item<long>(), "eval mode does not count batches");
        CollectionAssert.AreEquivalent(new[] { "weight", "bias", "running_mean", "running_var", "num_batches_tracked" }, bn.state_dict().Keys.ToArray());
    }

    [TestMethod]
    public void Dropout_EvalModeIsIdentity_TrainingModeZeroesAndRescales()
    {
        random.manual_seed(6);
        var dropout = new Dropout(0.25);
        var x = ones(200, 50);

        dropout.eval();
        using var evaluated = dropout.forward(x);
        dropout.train();
        using var trained = dropout.forward(x);

        Assert.IsTrue(evaluated.allclose(x, rtol: 0, atol: 0), "eval mode passes values through unchanged");
        var zeroFraction = trained.eq(0).to(ScalarType.Float32).mean().item<float>();
        Assert.IsTrue(zeroFraction is > 0.22f and < 0.28f, $"about 25% zeroed, got {zeroFraction:P1}");
        Assert.IsTrue(trained.masked_select(trained.ne(0)).allclose(full(1, 1f / 0.75f)), "survivors scaled by 1/(1-p)");
    }

    [TestMethod]
    public void Normalization_Adapt_StandardizesAndGuardsConstantFeatures()
    {
        var data = tensor(new float[] { 1, 5, 3, 5, 5, 5 }, [3, 2]);
        var norm = new Normalization(2).Adapt(data);

        using var y = norm.forward(data);

        CollectionAssert.AreEqual(new[] { 3f, 5f }, norm.Mean);
        Assert.AreEqual(1f, norm.Std[1], "a constant feature gets std 1, not 0");
        Assert.IsTrue(y.allclose(tensor(new float[] { -1.2247449f, 0, 0, 0, 1.2247449f, 0 }, [3, 2]), atol: 1e-6));
        var error = Assert.ThrowsExactly<ArgumentException>(() => norm.Adapt(zeros(4, 3)));
        StringAssert.Contains(error.Message, "Normalization(2) adapts to [rows, 2] with at least one row, got [4, 3]");
    }

    [TestMethod]
    public void StateDict_SmallCnn_RoundTripsWithPyTorchKeys()
    {
        random.manual_seed(8);
        using var temp = new TempFolder();
        var net = SmallCnn();
        var path = temp.File("cnn.safetensors");
        StateDicts.Save(net, path);
        var fresh = Net.Sequential().Add(new Normalization(64)).Unflatten(1, 8, 8)
            .LazyConv2d(6, 3, padding: 1).BatchNorm2d(6).ReLU().MaxPool2d(2).LazyConv2d(8, 3).ReLU().Flatten().Dropout(0.3).Linear(10).Build();

        StateDicts.Load(fresh, path);

        CollectionAssert.IsSubsetOf(new[] { "0.mean", "2.weight", "3.running_var", "3.num_batches_tracked", "10.bias" }, fresh.state_dict().Keys.ToArray());
        var x = rand(3, 64);
        net.eval();
        fresh.eval();
        Assert.IsTrue(net.forward(x).allclose(fresh.forward(x), rtol: 0, atol: 0), "deferred layers took their shapes from the file");
    }

    [TestMethod]
    public void Export_PoolWindowLargerThanInput_NamesBlockAndShapes()
    {
        var net = new Sequential(new Unflatten(1, 2, 2), new MaxPool2d(3));

        var error = Assert.ThrowsExactly<ExportException>(() => net.Build(InputSpec.Float32("x", Dim.Named("batch"), 4)));

        StringAssert.StartsWith(error.Message, "block '1', op MaxPool: input [batch, 1, 2, 2] is smaller than the window of 3 at dimension 2");
        Assert.AreEqual("1", error.BlockPath);
    }

    private static void TrainFewSteps(Block net, Func<Tensor> batch)
    {
        using var optimizer = optim.SGD(net.parameters(), 0.05);
        net.train();
        for (int step = 0; step < 5; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.zero_grad();
            var loss = net.forward(batch()).square().mean();
            loss.backward();
            optimizer.step();
        }
        net.eval();
    }
}
