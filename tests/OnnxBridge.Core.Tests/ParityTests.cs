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

    private static ParityReport ExportAndVerify(Block net, InputSpec spec, Func<int, Tensor> makeInput, TempFolder temp)
    {
        var inputs = BatchSizes.Select(makeInput).ToList();
        ParityBundle.Write(temp.Path, net, new ExportOptions(spec), inputs);
        OnnxChecker.AssertValid(temp.File(OnnxTestCase.ModelFileName));
        return BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
    }

    [TestMethod]
    public void Parity_SequentialMlp_OneModelSeveralBatchSizes_WithinFp32Tolerance()
    {
        random.manual_seed(11);
        using var temp = new TempFolder();

        var report = ExportAndVerify(TestModels.SequentialMlp(), TestModels.Input20, b => randn(b, 20), temp);

        Assert.IsTrue(report.Passed, report.Format());
        CollectionAssert.AreEqual(new[] { "[1, 20]", "[7, 20]", "[64, 20]" }, report.DataSets.Select(d => d.InputShapes[0]).ToArray());
        Assert.IsTrue(report.MaxRelativeError <= 1e-5, report.Format());
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
        var net = new Sequential(new Linear(4, 6), new ReLU(), new Scaled());

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

    /// <summary>A custom block using scalar arithmetic and a sum: (x * 0.5 - 1) / 4 + x.</summary>
    private sealed class Scaled : Block
    {
        public Scaled() : base(nameof(Scaled)) { }

        protected override Value Forward(Value input) => ((input * 0.5) - 1) / 4 + input;
    }
}
