using System.CommandLine;
using OnnxBridge.Cli.Conformance;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge conformance</c>: rebuilds onnx's own PyTorch-exported conformance cases
/// (libonnx-testdata's pytorch-converted and pytorch-operator) from our blocks and prints how many
/// are reproduced, eagerly and after our export, with the reason for every miss.
/// </summary>
internal static class ConformanceCommand
{
    /// <summary>Where Debian's libonnx-testdata puts onnx's test data.</summary>
    public const string DefaultDataFolder = "/usr/share/libonnx-testdata/data";

    private static readonly (string Folder, IReadOnlyList<SuiteCase> Cases)[] Suites =
    [
        (PyTorchConvertedCases.Folder, PyTorchConvertedCases.All),
        (PyTorchOperatorCases.Folder, PyTorchOperatorCases.All),
    ];

    public static Command Create()
    {
        var data = new Option<string>("--data") { Description = "onnx's test-data folder, holding pytorch-converted/ and pytorch-operator/ (Debian: apt install libonnx-testdata)", DefaultValueFactory = _ => DefaultDataFolder };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Cpu);
        var models = new Option<string?>("--write-models") { Description = "a folder to write each rebuilt case's opset-17 export into (CASE.onnx), to inspect or check" };
        var all = new Option<bool>("--all") { Description = "one line per case, not only the misses" };
        var import = new Option<bool>("--import")
        {
            Description = "instead: import every case of node/, pytorch-converted/ and pytorch-operator/ with OnnxImporter, run it eagerly and " +
                          "re-exported, and print the counts and every miss grouped by reason",
        };
        var command = new Command("conformance", "Rebuild onnx's PyTorch-exported test cases (pytorch-converted, pytorch-operator) from OnnxBridge blocks with the cases' weights; " +
                                                 "each must reproduce the case's outputs eagerly in TorchSharp and, exported at opsets 13, 17 and 21, under ONNX Runtime " +
                                                 $"(|Δ| ≤ {OnnxSuiteRunner.OnnxTolerance.Absolute:0e+0} + {OnnxSuiteRunner.OnnxTolerance.Relative:0e+0}·|ref|, onnx's tolerance).\n\n" +
                                                 "Exit code 1 when a case the vocabulary covers is not reproduced; the misses docs/conformance.md explains are reported, not failed.\n\n" +
                                                 "Example: onnxbridge conformance --write-models /tmp/rebuilt")
        {
            data, ep, models, all, import,
        };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var modelsFolder = result.GetValue(models);
            if (modelsFolder is not null) Directory.CreateDirectory(modelsFolder);
            var root = result.GetValue(data)!;
            if (!Directory.Exists(root))
                throw new UsageException($"onnx's test data is not at '{root}' (on Debian: apt install libonnx-testdata, or pass --data DIR)");
            if (result.GetValue(import)) return RunImport(root, result.GetValue(ep), result.GetValue(all), output);
            var unexplained = 0;
            var summaries = new List<string>();
            foreach (var (folder, cases) in Suites)
            {
                var outcomes = OnnxSuiteRunner.Run(Path.Combine(root, folder), cases, result.GetValue(ep), modelsFolder);
                foreach (var o in outcomes.Where(o => result.GetValue(all) || !o.Reproduced))
                    output.WriteLine($"{(o.Reproduced ? "ok    " : o.Explained ? "miss  " : "FAIL  ")}{folder}/{o.Name}: {o.Detail}");
                var reproduced = outcomes.Count(o => o.Reproduced);
                var explained = outcomes.Count(o => !o.Reproduced && o.Explained);
                unexplained += outcomes.Count - reproduced - explained;
                summaries.Add($"{folder}: {reproduced} of {outcomes.Count} reproduced" + (explained > 0 ? $" ({explained} out of scope, see docs/conformance.md)" : ""));
            }
            foreach (var line in summaries) output.WriteLine(line);
            return unexplained == 0 ? OnnxBridgeCli.Success : OnnxBridgeCli.CheckFailed;
        });
        return command;
    }

    /// <summary>The folders of onnx's test data that <c>--import</c> runs, in order.</summary>
    public static readonly string[] ImportSuites = ["node", PyTorchConvertedCases.Folder, PyTorchOperatorCases.Folder];

    private static int RunImport(string root, ExecutionProviderPolicy provider, bool all, TextWriter output)
    {
        var summaries = new List<string>();
        foreach (var suite in ImportSuites)
        {
            var outcomes = ImportSuiteRunner.Run(Path.Combine(root, suite), provider);
            if (all)
            {
                foreach (var o in outcomes) output.WriteLine($"{(o.Reexported ? "ok    " : "miss  ")}{suite}/{o.Name}: {(o.Reason.Length > 0 ? o.Reason + " — " : "")}{o.Detail}");
            }
            var misses = outcomes.Where(o => !o.Reexported).GroupBy(o => o.Reason).OrderByDescending(g => g.Count()).ThenBy(g => g.Key, StringComparer.Ordinal).ToList();
            output.WriteLine($"{suite}: misses by reason ({misses.Sum(g => g.Count())} cases)");
            foreach (var group in misses)
                output.WriteLine($"  {group.Count(),4}  {group.Key}: {string.Join(", ", group.Select(o => o.Name).Take(6))}{(group.Count() > 6 ? ", ..." : "")}");
            var summary = $"{suite}: {outcomes.Count(o => o.Eager)} of {outcomes.Count} import and match eagerly, {outcomes.Count(o => o.Reexported)} re-export and match";
            if (Suites.FirstOrDefault(x => x.Folder == suite).Cases is { } catalogue)
            {
                // The PyTorch suites have blocks rebuilt from our layers: one training step must move the parameters alike.
                var steps = FineTuneCheck.Run(Path.Combine(root, suite), catalogue).Where(o => o.Compared).ToList();
                foreach (var o in steps.Where(o => all || !o.Matched)) output.WriteLine($"{(o.Matched ? "ok    " : "miss  ")}{suite}/{o.Name}: fine-tuning step — {o.Detail}");
                summary += $", {steps.Count(o => o.Matched)} of {steps.Count} with parameters fine-tune as the rebuilt block does";
            }
            summaries.Add(summary);
        }
        foreach (var line in summaries) output.WriteLine(line);
        return OnnxBridgeCli.Success;
    }
}
