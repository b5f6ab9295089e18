using System.Text.Json;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Runtime.Parity;
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

/// <summary>Comparisons that collect failures instead of stopping at the first, so a run reports every case that differs.</summary>
internal static class Conformance
{
    public static void Check(List<string> failures, string name, string what, HostTensor expected, HostTensor actual, Tolerance tolerance)
    {
        var parity = TensorComparer.Compare(name, expected, actual, tolerance);
        if (!parity.Passed)
            failures.Add($"{name}, {what}: {parity.Problem ?? $"{parity.Violations} elements outside {tolerance}, max |Δ| {parity.MaxAbsoluteError:0.0e+0}"}");
    }
}
