using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Runtime.Parity;

/// <summary>
/// Re-runs a folder in the ONNX test-case layout (an OnnxBridge parity bundle, or anyone's) under
/// ONNX Runtime and compares every output with the recorded one. Needs no TorchSharp.
/// </summary>
public static class BundleVerifier
{
    /// <summary>Verifies the test case in <paramref name="folder"/>.</summary>
    /// <param name="tolerance">The tolerance; null takes the default for the outputs' element type (<see cref="Tolerance.For(IEnumerable{Onnx.Proto.TensorProto.Types.DataType})"/>).</param>
    /// <param name="timeout">How long each data set may run before ONNX Runtime is stopped (<see cref="InferenceException"/>); null for no limit.</param>
    /// <exception cref="Onnx.OnnxFileException">The folder is not a readable test case.</exception>
    /// <exception cref="InferenceException">ONNX Runtime refused the model, failed, or passed the timeout.</exception>
    public static ParityReport Verify(string folder, ExecutionProviderPolicy policy, Tolerance? tolerance = null, int deviceId = 0, Action<string>? log = null, TimeSpan? timeout = null) =>
        Verify(folder, OnnxRuntimeOptions.On(policy, deviceId), tolerance, log, timeout);

    /// <summary>Verifies the test case in <paramref name="folder"/> with every ONNX Runtime setting given (threads, optimizations, TF32, ...).</summary>
    /// <inheritdoc cref="Verify(string, ExecutionProviderPolicy, Tolerance?, int, Action{string}?, TimeSpan?)"/>
    public static ParityReport Verify(string folder, OnnxRuntimeOptions options, Tolerance? tolerance = null, Action<string>? log = null, TimeSpan? timeout = null)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(options);
        var testCase = OnnxTestCase.Read(folder);
        tolerance ??= Tolerance.For(testCase.DataSets.SelectMany(d => d.Outputs).Select(o => o.Tensor.ElementType));
        using var session = OnnxModelSession.Open(testCase.ModelPath, options, log);
        var sets = new List<DataSetParity>();
        for (int n = 0; n < testCase.DataSets.Count; n++)
        {
            var set = testCase.DataSets[n];
            var actual = session.Run(set.Inputs, timeout);
            var outputs = new List<OutputParity>();
            for (int k = 0; k < set.Outputs.Count; k++)
            {
                var expected = set.Outputs[k];
                var match = actual.FirstOrDefault(a => a.Name == expected.Name) ?? (k < actual.Count ? actual[k] : null);
                outputs.Add(match is null
                    ? new OutputParity(expected.Name, expected.Tensor.Shape, double.PositiveInfinity, double.PositiveInfinity, -1, expected.Tensor.ElementCount, "the model produced no such output")
                    : TensorComparer.Compare(expected.Name, expected.Tensor, match.Tensor, tolerance));
            }
            sets.Add(new DataSetParity(n, [.. set.Inputs.Select(i => HostTensor.FormatShape(i.Tensor.Shape))], outputs));
        }
        return new ParityReport(testCase.ModelPath, session.ProviderDescription, tolerance, sets);
    }
}
