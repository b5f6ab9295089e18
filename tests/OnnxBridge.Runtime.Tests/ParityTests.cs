using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Runtime.Tests;

[TestClass]
[DoNotParallelize]
public sealed class ParityTests
{
    [TestMethod]
    public void Tolerance_Float32_IsAllcloseWithOneEMinusFive()
    {
        Assert.IsTrue(Tolerance.Float32.Accepts(100, 100.001));
        Assert.IsFalse(Tolerance.Float32.Accepts(100, 100.0011));
        Assert.IsTrue(Tolerance.Float32.Accepts(0, 9e-6));
        Assert.IsFalse(Tolerance.Float32.Accepts(0, 1.1e-5));
        Assert.IsTrue(Tolerance.Float32.Accepts(double.NaN, double.NaN));
        Assert.IsFalse(Tolerance.Float32.Accepts(1, double.NaN));
    }

    [TestMethod]
    public void Compare_ReportsMaxErrorsAndTheWorstElement()
    {
        var expected = HostTensor.Create<float>([1, 2, 0, 4], 4);
        var actual = HostTensor.Create<float>([1, 2.5f, 0, 4.000001f], 4);

        var parity = TensorComparer.Compare("y", expected, actual, Tolerance.Float32);

        Assert.IsFalse(parity.Passed);
        Assert.AreEqual(1L, parity.Violations);
        Assert.AreEqual(1L, parity.WorstIndex);
        Assert.AreEqual(0.5, parity.MaxAbsoluteError, 1e-9);
        Assert.AreEqual(0.25, parity.MaxRelativeError, 1e-9);
    }

    [TestMethod]
    public void Compare_ShapeMismatch_FailsWithTheShapes()
    {
        var parity = TensorComparer.Compare("y", HostTensor.Create<float>([1, 2], 2), HostTensor.Create<float>([1, 2], 1, 2), Tolerance.Float32);

        Assert.IsFalse(parity.Passed);
        Assert.AreEqual("output has shape [1, 2], expected [2]", parity.Problem);
    }

    [TestMethod]
    public void Verify_Bundle_PassesAndFormatsATable()
    {
        using var temp = new TempFolder();
        var model = ModelProto.Parser.ParseFrom(TestGraphs.Affine([1, 0, 0, 0, 1, 0], [0, 0]));
        var x = HostTensor.Create<float>([1, 2, 3], 1, 3);
        OnnxTestCase.Write(temp.Path, model, [new TestDataSet([new NamedTensor("x", x)], [new NamedTensor("y", HostTensor.Create<float>([1, 2], 1, 2))])]);

        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        Assert.IsTrue(report.Passed, report.Format());
        Assert.AreEqual("CPUExecutionProvider", report.Provider);
        StringAssert.Contains(report.Format(), "overall: PASS");
        StringAssert.Contains(report.Format(), "|Δ| ≤ 1e-5 + 1e-5·|ref|");
    }

    [TestMethod]
    public void Verify_WrongReference_Fails()
    {
        using var temp = new TempFolder();
        var model = ModelProto.Parser.ParseFrom(TestGraphs.Affine([1, 0, 0, 0, 1, 0], [0, 0]));
        var x = HostTensor.Create<float>([1, 2, 3], 1, 3);
        OnnxTestCase.Write(temp.Path, model, [new TestDataSet([new NamedTensor("x", x)], [new NamedTensor("y", HostTensor.Create<float>([1, 2.001f], 1, 2))])]);

        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);

        Assert.IsFalse(report.Passed);
        StringAssert.Contains(report.Format(), "overall: FAIL");
    }
}
