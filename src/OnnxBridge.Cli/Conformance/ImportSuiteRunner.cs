using Google.Protobuf;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Cli.Conformance;

/// <summary>How one case went through import: matched eagerly, re-exported and matched, or the reason it missed.</summary>
/// <param name="Reason">For a miss, the group it is counted in (e.g. "op not covered: NonZero"); empty when both steps matched.</param>
internal sealed record ImportOutcome(string Name, bool Eager, bool Reexported, string Reason, string Detail);

/// <summary>
/// Runs onnx's test cases through <see cref="OnnxImporter"/>: each model is imported as a block,
/// run eagerly in TorchSharp on the case's inputs and compared with the case's outputs (onnx's
/// tolerance for floating point, exact for the rest), then the block is exported again and run under
/// ONNX Runtime against the same outputs. Nothing here knows which op a case tests.
/// </summary>
internal static class ImportSuiteRunner
{
    public static IReadOnlyList<ImportOutcome> Run(string suiteFolder, ExecutionProviderPolicy provider)
    {
        if (!Directory.Exists(suiteFolder)) throw new DirectoryNotFoundException($"conformance folder '{suiteFolder}' does not exist");
        return [.. Directory.GetDirectories(suiteFolder).Order(StringComparer.Ordinal).Select(folder => RunCase(folder, provider))];
    }

    private static ImportOutcome RunCase(string folder, ExecutionProviderPolicy provider)
    {
        var name = Path.GetFileName(folder)!;
        ModelProto model;
        try
        {
            model = Onnx.OnnxFiles.ReadModel(Path.Combine(folder, OnnxTestCase.ModelFileName));
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e))
        {
            return Miss(name, "model not readable", e);
        }
        var ops = string.Join("+", model.Graph.Node.Select(n => n.OpType).Distinct());
        try
        {
            var unsupported = OnnxImporter.UnsupportedOps(model);
            if (unsupported.Count > 0)
                return new ImportOutcome(name, false, false, "op not covered: " + string.Join(", ", unsupported.Keys.Select(k => k.Split(' ')[0])), string.Join("; ", unsupported.Keys));
        }
        catch (OnnxImportException e)
        {
            return Miss(name, $"opset outside {OnnxImporter.MinOpset}–{OnnxImporter.MaxOpset}", e);
        }
        if (NonTensorTypes(model) is { } kinds) return new ImportOutcome(name, false, false, $"{kinds} values", $"the graph passes {kinds} values; only tensors are imported");

        using var scope = NewDisposeScope();
        OnnxTestCase testCase;
        OnnxGraphBlock block;
        try
        {
            testCase = OnnxTestCase.Read(folder);
            block = OnnxImporter.Import(model, folder);
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e))
        {
            return Miss(name, $"import refused: {ops}", e);
        }
        block.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (var (set, n) in testCase.DataSets.Select((s, n) => (s, n)))
            {
                var outputs = block.forward_all([.. set.Inputs.Select(i => TensorConvert.ToTorch(i.Tensor))]);
                if (Differences(set.Outputs, [.. outputs.Select(TensorConvert.ToHost)]) is { } problem)
                    return new ImportOutcome(name, false, false, $"eager outputs differ: {ops}", $"data set {n}: {problem}");
            }
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e) || e is ArgumentException or InvalidOperationException or System.Runtime.InteropServices.ExternalException)
        {
            return Miss(name, $"eager run failed: {ops}", e);
        }
        try
        {
            var bytes = Core.Export.OnnxExporter.Export(block, block.ExportOptions()).ToByteArray();
            using var session = OnnxModelSession.Open(bytes, OnnxRuntimeOptions.On(provider));
            foreach (var (set, n) in testCase.DataSets.Select((s, n) => (s, n)))
            {
                if (Differences(set.Outputs, [.. session.Run(set.Inputs).Select(o => o.Tensor)]) is { } problem)
                    return new ImportOutcome(name, true, false, $"re-export differs: {ops}", $"data set {n} under ONNX Runtime: {problem}");
            }
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e) || e is ArgumentException or InvalidOperationException)
        {
            return Miss(name, $"re-export failed: {ops}", e, eager: true);
        }
        return new ImportOutcome(name, true, true, "", "imported, matched eagerly and re-exported");
    }

    private static ImportOutcome Miss(string name, string reason, Exception e, bool eager = false) =>
        new(name, eager, false, reason, e.Message.Split('\n')[0]);

    /// <summary>"sequence", "optional", "map" or "string" when a graph input or output is not a numeric tensor; null otherwise.</summary>
    private static string? NonTensorTypes(ModelProto model)
    {
        var kinds = model.Graph.Input.Concat(model.Graph.Output).Select(v => v.Type).Where(t => t is not null).Select(t => t!.ValueCase switch
        {
            TypeProto.ValueOneofCase.TensorType => t.TensorType.ElemType == (int)DataType.String ? "string" : null,
            TypeProto.ValueOneofCase.SequenceType => "sequence",
            TypeProto.ValueOneofCase.OptionalType => "optional",
            TypeProto.ValueOneofCase.MapType => "map",
            _ => "non-tensor",
        }).Where(k => k is not null).Distinct().ToList();
        return kinds.Count > 0 ? string.Join("/", kinds) : null;
    }

    /// <summary>The first output that differs (onnx's tolerance for floating point, exact otherwise), or null.</summary>
    private static string? Differences(IReadOnlyList<NamedTensor> expected, IReadOnlyList<HostTensor> actual)
    {
        if (expected.Count != actual.Count) return $"{actual.Count} outputs, the case has {expected.Count}";
        for (int i = 0; i < expected.Count; i++)
        {
            var tolerance = expected[i].Tensor.ElementType is DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16
                ? OnnxSuiteRunner.OnnxTolerance : Tolerance.Exact;
            var parity = TensorComparer.Compare(expected[i].Name, expected[i].Tensor, actual[i], tolerance);
            if (!parity.Passed)
                return $"output '{expected[i].Name}': {parity.Problem ?? $"{parity.Violations} elements outside {tolerance}, max |Δ| {parity.MaxAbsoluteError:0.0e+0}"}";
        }
        return null;
    }
}
