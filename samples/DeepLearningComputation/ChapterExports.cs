using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Parity;
using OnnxBridge.Core.Values;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter;

/// <summary>
/// What the chapter cannot do in PyTorch and we add to every section: export the network, write a
/// parity bundle (one data set per input, different batch sizes) and re-run it under ONNX Runtime.
/// </summary>
public sealed class ChapterExports(string root, TextWriter output)
{
    private readonly List<(string Name, ParityReport Report)> _reports = [];

    /// <summary>The bundles' parent folder.</summary>
    public string Root { get; } = root;

    /// <summary>Whether every bundle passed.</summary>
    public bool AllPassed => _reports.All(r => r.Report.Passed);

    /// <summary>The reports so far.</summary>
    public IReadOnlyList<(string Name, ParityReport Report)> Reports => _reports;

    /// <summary>Exports <paramref name="block"/>, writes its bundle to Root/<paramref name="name"/>, verifies it on the CPU and prints one line.</summary>
    public ParityReport Check(string name, Block block, InputSpec input, params Tensor[] inputs)
    {
        var folder = Path.Combine(Root, name);
        ParityBundle.Write(folder, block, new ExportOptions(input), inputs);
        var report = BundleVerifier.Verify(folder, ExecutionProviderPolicy.Cpu, Tolerance.Float32);
        _reports.Add((name, report));
        var sizes = string.Join(", ", inputs.Select(i => i.shape[0]));
        output.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  [onnx] {name}: {folder} (batch {sizes}) -> {(report.Passed ? "PASS" : "FAIL")}, max |Δ| {report.MaxAbsoluteError:0.0e+0}, max rel {report.MaxRelativeError:0.0e+0}"));
        return report;
    }
}
