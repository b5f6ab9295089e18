using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Conformance;

/// <summary>How one case of a suite went: reproduced, or why not.</summary>
/// <param name="Explained">For a miss: whether the catalogue names it out of scope (else it is a failure to fix).</param>
internal sealed record SuiteOutcome(string Name, bool Reproduced, bool Explained, string Detail);

/// <summary>
/// Rebuilds the cases of an ONNX conformance folder (model.onnx + test_data_set_N, from PyTorch's
/// exporter) from our blocks: the case's initializers become the block's weights, the block runs
/// eagerly in TorchSharp on the case's inputs and must give the case's outputs, then it is exported
/// at opsets 13, 17 and 21 and must give them again under ONNX Runtime. The case's own model is only
/// read for its initializers and names; what runs is ours.
/// </summary>
internal static class OnnxSuiteRunner
{
    /// <summary>onnx's backend-test tolerance for these cases: |Δ| ≤ 1e-7 + 1e-3·|ref|.</summary>
    public static readonly Tolerance OnnxTolerance = new(1e-7, 1e-3);

    /// <summary>The opsets each rebuilt block is exported at.</summary>
    public static readonly int[] Opsets = [ExportOptions.MinOpset, ExportOptions.DefaultOpset, ExportOptions.MaxOpset];

    /// <summary>Runs every case folder under <paramref name="suiteFolder"/>, in name order.</summary>
    /// <param name="modelsFolder">Where to write each rebuilt case's opset-17 export (NAME.onnx), or null.</param>
    public static IReadOnlyList<SuiteOutcome> Run(string suiteFolder, IReadOnlyList<SuiteCase> catalogue, ExecutionProviderPolicy provider, string? modelsFolder)
    {
        if (!Directory.Exists(suiteFolder)) throw new DirectoryNotFoundException($"conformance folder '{suiteFolder}' does not exist");
        var byName = catalogue.ToDictionary(c => c.Name, StringComparer.Ordinal);
        var folders = Directory.GetDirectories(suiteFolder).Order(StringComparer.Ordinal).ToList();
        var present = folders.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        return [
            .. folders.Select(folder => byName.TryGetValue(Path.GetFileName(folder)!, out var entry)
                ? RunCase(folder, entry, provider, modelsFolder)
                : new SuiteOutcome(Path.GetFileName(folder)!, false, false, "not in the catalogue: no block is written for this case")),
            // A catalogue entry without its folder is a different data set than the one counted here.
            .. catalogue.Where(c => !present.Contains(c.Name)).Select(c => new SuiteOutcome(c.Name, false, false, $"in the catalogue, but '{suiteFolder}' has no such case")),
        ];
    }

    private static SuiteOutcome RunCase(string folder, SuiteCase entry, ExecutionProviderPolicy provider, string? modelsFolder)
    {
        if (entry.Build is null) return new SuiteOutcome(entry.Name, false, true, entry.Miss!);
        var problems = new List<string>();
        try
        {
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var testCase = OnnxTestCase.Read(folder);
            var block = entry.Build();
            LoadInitializers(block, testCase, entry);
            block.eval();
            foreach (var (set, n) in testCase.DataSets.Select((s, n) => (s, n)))
            {
                var outputs = block.forward_all([.. set.Inputs.Select(i => TensorConvert.ToTorch(i.Tensor))]);
                Compare(problems, $"eager, data set {n}", set.Outputs, [.. outputs.Select(TensorConvert.ToHost)]);
            }
            var first = testCase.DataSets[0];
            var specs = first.Inputs.Select(i => new InputSpec(i.Name, i.Tensor.ElementType, [.. i.Tensor.Shape.Select(Dim.Known)])).ToArray();
            foreach (var opset in Opsets)
            {
                var options = new ExportOptions(specs[0], specs[1..]) { Opset = opset, OutputNames = [.. first.Outputs.Select(o => o.Name)] };
                var bytes = OnnxExporter.Export(block, options).ToByteArray();
                if (opset == ExportOptions.DefaultOpset && modelsFolder is not null)
                    File.WriteAllBytes(Path.Combine(modelsFolder, entry.Name + ".onnx"), bytes);
                using var session = OnnxModelSession.Open(bytes, OnnxRuntimeOptions.On(provider));
                foreach (var (set, n) in testCase.DataSets.Select((s, n) => (s, n)))
                    Compare(problems, $"ONNX Runtime at opset {opset}, data set {n}", set.Outputs, [.. session.Run(set.Inputs).Select(o => o.Tensor)]);
            }
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e))
        {
            problems.Add(e.Message.Split('\n')[0]);
        }
        return problems.Count == 0
            ? new SuiteOutcome(entry.Name, true, false, "reproduced")
            : new SuiteOutcome(entry.Name, false, false, string.Join("; ", problems));
    }

    /// <summary>Loads the case's initializers, in the graph's order, into the entry's keys.</summary>
    internal static void LoadInitializers(Block block, OnnxTestCase testCase, SuiteCase entry)
    {
        var initializers = testCase.Model.Graph.Initializer;
        var keys = entry.Keys ?? [.. block.named_parameters().Select(p => p.name)];
        if (initializers.Count != keys.Count)
            throw new StateDictException($"'{testCase.ModelPath}' has {initializers.Count} initializers ({string.Join(", ", initializers.Select(i => i.Name))}); the block takes {keys.Count} ({string.Join(", ", keys)})");
        var state = keys.Select((key, i) => (key, HostTensor.FromProto(initializers[i], testCase.Folder))).ToList();
        var result = StateDicts.Load(block, state, $"the initializers of '{testCase.ModelPath}'", strict: false);
        if (result.UnexpectedKeys.Count > 0)
            throw new StateDictException($"'{testCase.ModelPath}': the block has no {string.Join(", ", result.UnexpectedKeys)}");
    }

    private static void Compare(List<string> problems, string where, IReadOnlyList<NamedTensor> expected, IReadOnlyList<HostTensor> actual)
    {
        if (expected.Count != actual.Count)
        {
            problems.Add($"{where}: {actual.Count} outputs, the case has {expected.Count}");
            return;
        }
        for (int i = 0; i < expected.Count; i++)
        {
            var parity = TensorComparer.Compare(expected[i].Name, expected[i].Tensor, actual[i], OnnxTolerance);
            if (!parity.Passed)
                problems.Add($"{where}, output '{expected[i].Name}': {parity.Problem ?? $"{parity.Violations} elements outside {OnnxTolerance}, max |Δ| {parity.MaxAbsoluteError:0.0e+0}"}");
        }
    }
}
