using System.Text.Json;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Cases recorded by one of the generator scripts in tests/Conformance under Debian's PyTorch: a
/// folder of CASE.pt records and a cases.json manifest. Shared by the op and layer conformance tests.
/// </summary>
internal sealed class PyTorchCases<TCase>
{
    private PyTorchCases(string folder, List<TCase> cases) => (Folder, Cases) = (folder, cases);

    public string Folder { get; }

    public IReadOnlyList<TCase> Cases { get; }

    /// <summary>Runs tests/Conformance/<paramref name="script"/> into a fresh temporary folder and reads its manifest.</summary>
    public static PyTorchCases<TCase> Generate(string script)
    {
        var folder = Path.Combine(Path.GetTempPath(), "onnxbridge-tests", Path.GetFileNameWithoutExtension(script) + "-" + Guid.NewGuid().ToString("N"));
        PythonTorch.Run(File.ReadAllText(RepoFiles.Path("tests", "Conformance", script)), folder);
        var cases = JsonSerializer.Deserialize<List<TCase>>(File.ReadAllText(Path.Combine(folder, "cases.json")), new JsonSerializerOptions { PropertyNameCaseInsensitive = true })!;
        return new PyTorchCases<TCase>(folder, cases);
    }

    /// <summary>The tensors of one case's record, by name.</summary>
    public Dictionary<string, HostTensor> Record(string name) =>
        StateDicts.Read(Path.Combine(Folder, name + ".pt")).ToDictionary(e => e.Key, e => e.Tensor, StringComparer.Ordinal);
}

/// <summary>
/// The conformance tolerances and checks, shared by the op and layer tests; failures are collected
/// instead of stopping at the first, so a run reports every case that differs.
/// </summary>
internal static class Conformance
{
    /// <summary>TorchSharp's eager forward vs PyTorch's: the same libtorch kernels, so tight.</summary>
    public static readonly Tolerance Eager = new(1e-6, 1e-5);

    /// <summary>Gradients: a backward pass more, summed in possibly different orders.</summary>
    public static readonly Tolerance Gradient = new(1e-5, 1e-4);

    /// <summary>ONNX Runtime's kernels vs PyTorch's (float32): other algorithms for exp, erf, reductions.</summary>
    public static readonly Tolerance Runtime = new(1e-5, 1e-4);

    /// <summary>The opsets every export is checked at: the lowest we emit, the default, the highest.</summary>
    public static readonly int[] Opsets = [13, 17, 21];

    /// <summary>
    /// Exports <paramref name="block"/> at each of <see cref="Opsets"/> and compares ONNX Runtime's
    /// first output with PyTorch's; the opset-17 model is kept in <paramref name="checkedModels"/> for
    /// onnx's checker. Below <paramref name="minOpset"/>, or always when <paramref name="noExport"/>
    /// names why, the export must refuse with an error saying so — never approximate.
    /// </summary>
    public static void CheckExports(List<string> failures, string name, Blocks.Block block, IReadOnlyList<NamedTensor> inputs, HostTensor expected,
                                    string checkedModels, int minOpset = 13, string? noExport = null)
    {
        var specs = inputs.Select(i => new Values.InputSpec(i.Name, i.Tensor.ElementType, [.. i.Tensor.Shape.Select(Values.Dim.Known)])).ToArray();
        foreach (var opset in Opsets)
        {
            var options = new Export.ExportOptions(specs[0], specs[1..]) { Opset = opset };
            var refusal = noExport ?? (opset < minOpset ? "opset" : null);
            try
            {
                var model = Export.OnnxExporter.Export(block, options);
                if (refusal is not null)
                {
                    failures.Add($"{name}, opset {opset}: exported although it {(noExport is null ? $"needs opset {minOpset}" : $"has {noExport}")}");
                    continue;
                }
                var bytes = Google.Protobuf.MessageExtensions.ToByteArray(model);
                if (opset == Export.ExportOptions.DefaultOpset) File.WriteAllBytes(Path.Combine(checkedModels, name + ".onnx"), bytes);
                using var session = OnnxModelSession.Open(bytes);
                Check(failures, name, $"opset {opset}", expected, session.Run(inputs)[0].Tensor, Runtime);
            }
            catch (Export.ExportException e) when (refusal is not null && e.Message.Contains(refusal, StringComparison.Ordinal))
            {
            }
            catch (OnnxBridgeException e)
            {
                failures.Add($"{name}, opset {opset}: {e.Message}");
            }
        }
    }

    public static void Check(List<string> failures, string name, string what, HostTensor expected, HostTensor actual, Tolerance tolerance)
    {
        var parity = TensorComparer.Compare(name, expected, actual, tolerance);
        if (!parity.Passed)
            failures.Add($"{name}, {what}: {parity.Problem ?? $"{parity.Violations} elements outside {tolerance}, max |Δ| {parity.MaxAbsoluteError:0.0e+0}"}");
    }
}
