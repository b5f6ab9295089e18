using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Conformance;

/// <summary>How one case's fine-tuning step went; Compared is false for a case with nothing to train or no rebuilt block.</summary>
internal sealed record FineTuneOutcome(string Name, bool Compared, bool Matched, string Detail);

/// <summary>
/// The importer's training check on onnx's PyTorch cases: one SGD step (learning rate 0.1, eval mode,
/// loss Σ output·r for a fixed random r) on the imported block and on the block the conformance
/// catalogue rebuilds from our layers with the same initializers; every parameter both train must
/// move alike, |Δ| ≤ 1e-5 + 1e-4·|ref| after the step (the two compute the same gradients by
/// different routes, so rounding differs).
/// </summary>
internal static class FineTuneCheck
{
    private const double LearningRate = 0.1, Absolute = 1e-5, Relative = 1e-4;

    public static IReadOnlyList<FineTuneOutcome> Run(string suiteFolder, IReadOnlyList<SuiteCase> catalogue) =>
        [.. catalogue.Where(c => c.Build is not null && Directory.Exists(Path.Combine(suiteFolder, c.Name)))
            .Select(c => RunCase(Path.Combine(suiteFolder, c.Name), c))];

    private static FineTuneOutcome RunCase(string folder, SuiteCase entry)
    {
        using var scope = NewDisposeScope();
        try
        {
            var testCase = OnnxTestCase.Read(folder);
            var imported = OnnxImporter.Import(testCase.Model, folder);
            var reference = entry.Build!();
            OnnxSuiteRunner.LoadInitializers(reference, testCase, entry);
            // The same tensor in both blocks: initializer i is the imported key of its name and the catalogue's key i.
            var keys = entry.Keys ?? [.. reference.named_parameters().Select(p => p.name)];
            var importedKeys = OnnxImporter.StateDictKeys(testCase.Model.Graph.Initializer.Select(i => i.Name));
            var ours = imported.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var theirs = reference.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            var pairs = testCase.Model.Graph.Initializer.Select((init, i) => (Key: keys[i], Ours: ours.GetValueOrDefault(importedKeys[init.Name]), Theirs: theirs.GetValueOrDefault(keys[i])))
                .Where(p => p.Ours is not null && p.Theirs is not null).ToList();
            if (pairs.Count == 0) return new FineTuneOutcome(entry.Name, false, false, "no parameter that both train");

            var inputs = testCase.DataSets[0].Inputs.Select(i => TensorConvert.ToTorch(i.Tensor)).ToArray();
            var before = pairs.Select(p => p.Ours!.detach().clone()).ToList();
            Step(imported, inputs);
            Step(reference, inputs);
            if (pairs.Zip(before).All(p => p.First.Ours!.detach().equal(p.Second).all().item<bool>()))
                return new FineTuneOutcome(entry.Name, true, false, "the step moved no parameter (zero gradients): nothing was compared");
            foreach (var (key, a, b) in pairs)
            {
                var worst = (a!.detach() - b!.detach()).abs().sub(b.detach().abs().mul(Relative)).max().item<float>();
                if (worst > Absolute) return new FineTuneOutcome(entry.Name, true, false, $"'{key}' after one step differs by {worst:0.0e+0} beyond {Absolute:0e+0} + {Relative:0e+0}·|ref|");
            }
            return new FineTuneOutcome(entry.Name, true, true, $"{pairs.Count} parameter(s) moved alike");
        }
        catch (Exception e) when (OnnxBridgeCli.IsBadInput(e) || e is ArgumentException or InvalidOperationException)
        {
            return new FineTuneOutcome(entry.Name, true, false, e.Message.Split('\n')[0]);
        }
    }

    private static void Step(Block block, Tensor[] inputs)
    {
        block.eval();
        using var optimizer = optim.SGD(block.parameters(), LearningRate);
        optimizer.zero_grad();
        var outputs = block.forward_all(inputs);
        var loss = outputs.Where(o => o.is_floating_point()).Select((o, i) =>
        {
            random.manual_seed(17 + i);
            return (o * randn_like(o)).sum();
        }).Aggregate((x, y) => x + y);
        loss.backward();
        optimizer.step();
    }
}
