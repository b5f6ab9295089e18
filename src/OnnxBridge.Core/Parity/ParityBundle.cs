using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.TestCases;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Parity;

/// <summary>
/// Writes a parity bundle: the exported model plus, for each given input, the output of the
/// TorchSharp forward, in the ONNX test-case layout (<c>model.onnx</c>,
/// <c>test_data_set_N/input_0.pb</c>, <c>output_0.pb</c>). Any ONNX tool — <c>onnxbridge verify</c>
/// on a machine without TorchSharp, onnx's backend runner — can then re-check the export.
/// </summary>
public static class ParityBundle
{
    /// <summary>Exports <paramref name="model"/> and writes the bundle to <paramref name="folder"/>; returns the exported model.</summary>
    /// <param name="inputs">One data set per tensor; different batch sizes exercise the symbolic batch dimension.</param>
    public static ModelProto Write(string folder, Block model, ExportOptions options, IReadOnlyList<Tensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count == 0) throw new ArgumentException("a parity bundle needs at least one input", nameof(inputs));

        var proto = OnnxExporter.Export(model, options);
        var sets = new List<TestDataSet>(inputs.Count);
        var wasTraining = model.training;
        model.eval();
        try
        {
            foreach (var input in inputs)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var output = model.forward(input);
                sets.Add(new TestDataSet(
                    [new NamedTensor(options.Input.Name, TensorConvert.ToHost(input))],
                    [new NamedTensor(options.OutputName, TensorConvert.ToHost(output))]));
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        OnnxTestCase.Write(folder, proto, sets);
        return proto;
    }
}
