using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Export + python3-onnx full check + ONNX Runtime parity (fp32, |Δ| ≤ 1e-5 + 1e-5·|ref|) for one network.</summary>
internal static class ChapterParity
{
    public static ModelProto AssertExportsWithParity(Block net, InputSpec spec, params Tensor[] inputs)
    {
        using var temp = new TempFolder();
        ParityBundle.Write(temp.Path, net, new ExportOptions(spec), inputs);
        var modelPath = Path.Combine(temp.Path, "model.onnx");
        OnnxChecker.AssertValid(modelPath);
        var report = BundleVerifier.Verify(temp.Path, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
        Assert.IsTrue(report.Passed, report.Format());
        Assert.AreEqual(inputs.Length, report.DataSets.Count);
        return OnnxFiles.ReadModel(modelPath);
    }

    public static InputSpec Batch(long features) => InputSpec.Float32("input", Dim.Named("batch"), features);
}
