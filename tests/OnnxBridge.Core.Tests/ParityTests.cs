using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>TorchSharp forward vs ONNX Runtime (CPU EP) on exported models: fp32, |Δ| ≤ 1e-5 + 1e-5·|ref|.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ParityTests
{
    private static readonly int[] BatchSizes = [1, 7, 64];

    private static ParityReport ExportAndVerify(Block net, InputSpec spec, Func<int, Tensor> makeInput, TempFolder temp) =>
        ExportAndVerifyWith(net, spec, [.. BatchSizes.Select(makeInput)], temp);

    [TestMethod]
    public void Parity_SequentialMlp_OneModelSeveralBatchSizes_WithinFp32Tolerance()
    {
        random.manual_seed(11);
        using var temp = new TempFolder();

        var report = ExportAndVerify(TestModels.SequentialMlp(), TestModels.Input20, b => randn(b, 20), temp);

        Assert.IsTrue(report.Passed, report.Format());
        CollectionAssert.AreEqual(new[] { "[1, 20]", "[7, 20]", "[64, 20]" }, report.DataSets.Select(d => d.InputShapes[0]).ToArray());
    }

    [TestMethod]
    public void Parity_UserDefinedMlp_WithinFp32Tolerance()
    {
        random.manual_seed(12);
        using var temp = new TempFolder();

        var report = ExportAndVerify(new Mlp(), TestModels.Input20, b => randn(b, 20), temp);

        Assert.IsTrue(report.Passed, report.Format());
    }

    [TestMethod]
    public void Parity_RankThreeInputWithScalarArithmetic_WithinFp32Tolerance()
    {
        random.manual_seed(13);
        using var temp = new TempFolder();
        var net = new Sequential(new Linear(6, 4), new ReLU(), new Scaled());

        var report = ExportAndVerify(net, InputSpec.Float32("input", Dim.Named("batch"), 5, 6), b => randn(b, 5, 6), temp);

        Assert.IsTrue(report.Passed, report.Format());
    }

    [TestMethod]
    public void Parity_PerturbedReference_IsReportedAsFailure()
    {
        random.manual_seed(14);
        using var temp = new TempFolder();
        var net = TestModels.SequentialMlp();
        ParityBundle.Write(temp.Path, net, new ExportOptions(TestModels.Input20), [randn(3, 20)]);
        var testCase = OnnxTestCase.Read(temp.Path);
        var output = testCase.DataSets[0].Outputs[0];
        var values = output.Tensor.ToArray<float>();
        values[4] += 1e-3f;
        OnnxTestCase.Write(temp.Path, testCase.Model,
            [new TestDataSet(testCase.DataSets[0].Inputs, [new NamedTensor(output.Name, Onnx.Tensors.HostTensor.Create<float>(values, [.. output.Tensor.Shape]))])]);

        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        Assert.IsFalse(report.Passed);
        Assert.AreEqual(1L, report.DataSets[0].Outputs[0].Violations);
        Assert.AreEqual(4L, report.DataSets[0].Outputs[0].WorstIndex);
    }

    [TestMethod]
    public void Parity_IfOnData_TakesEachBranchPerInput()
    {
        using var temp = new TempFolder();
        var net = new Sequential(new SignFlip());
        var spec = InputSpec.Float32("input", Dim.Named("batch"), 3);
        var inputs = new[] { rand(2, 3), -rand(5, 3) };
        Assert.IsTrue(net.forward(inputs[0]).allclose(inputs[0] * 2), "eager: positive sum doubles");
        Assert.IsTrue(net.forward(inputs[1]).allclose(-inputs[1]), "eager: negative sum negates");

        var report = ExportAndVerifyWith(net, spec, inputs, temp);

        Assert.IsTrue(report.Passed, report.Format());
        Assert.AreEqual("If", OnnxTestCase.Read(temp.Path).Model.Graph.Node.Last().OpType);
    }

    [TestMethod]
    public void Parity_WhileWithIterationCap_StopsAtTheCapInBothWorlds()
    {
        using var temp = new TempFolder();
        var net = new Sequential(new CappedHalving());
        var inputs = new[] { full(1, 3, 1000f), full(4, 3, 1e-4f) };
        Assert.IsTrue(net.forward(inputs[0]).allclose(full(1, 3, 125f)), "three halvings, then the cap");

        var report = ExportAndVerifyWith(net, InputSpec.Float32("input", Dim.Named("batch"), 3), inputs, temp);

        Assert.IsTrue(report.Passed, report.Format());
    }

    private static ParityReport ExportAndVerifyWith(Block net, InputSpec spec, Tensor[] inputs, TempFolder temp)
    {
        ParityBundle.Write(temp.Path, net, new ExportOptions(spec), inputs);
        OnnxChecker.AssertValid(temp.File(OnnxTestCase.ModelFileName));
        return BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
    }

    /// <summary>x * 2 when the sum of x is positive, else -x: an ONNX If.</summary>
    private sealed class SignFlip : Block
    {
        public SignFlip() : base(nameof(SignFlip)) { }

        protected override Value Forward(Value input) => Flow.If(input.Sum() > 0, () => input * 2, () => -input);
    }

    /// <summary>Halves while |x|.sum() &gt; 1e-3, at most three times: an ONNX Loop with a trip count.</summary>
    private sealed class CappedHalving : Block
    {
        public CappedHalving() : base(nameof(CappedHalving)) { }

        protected override Value Forward(Value input) => Flow.While(input, v => v.Abs().Sum() > 1e-3, v => v / 2, maxIterations: 3);
    }

    /// <summary>A custom block using scalar arithmetic and a sum: (x * 0.5 - 1) / 4 + x.</summary>
    private sealed class Scaled : Block
    {
        public Scaled() : base(nameof(Scaled)) { }

        protected override Value Forward(Value input) => ((input * 0.5) - 1) / 4 + input;
    }
}
