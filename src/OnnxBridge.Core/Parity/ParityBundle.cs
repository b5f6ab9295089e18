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
        ArgumentNullException.ThrowIfNull(inputs);
        return Write(folder, model, options, [.. inputs.Select(i => (IReadOnlyList<Tensor>)[i])]);
    }

    /// <summary>As <see cref="Write(string, Block, ExportOptions, IReadOnlyList{Tensor})"/>, with one tensor per declared input in each data set.</summary>
    public static ModelProto Write(string folder, Block model, ExportOptions options, IReadOnlyList<IReadOnlyList<Tensor>> dataSets)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        var proto = OnnxExporter.Export(model, options);
        Write(folder, proto, model, options, dataSets);
        return proto;
    }

    /// <summary>
    /// Writes the bundle for a model already exported from <paramref name="model"/> with
    /// <paramref name="options"/> — no second trace: one export serves the model file, the
    /// repository and the bundle. Its initializers must be inline (the bundle is one self-contained folder).
    /// </summary>
    public static void Write(string folder, ModelProto exported, Block model, ExportOptions options, IReadOnlyList<IReadOnlyList<Tensor>> dataSets)
    {
        ArgumentNullException.ThrowIfNull(folder);
        ArgumentNullException.ThrowIfNull(exported);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(dataSets);
        if (dataSets.Count == 0) throw new ArgumentException("a parity bundle needs at least one data set", nameof(dataSets));
        if (dataSets.FirstOrDefault(d => d.Count != options.Inputs.Count) is { } wrong)
            throw new ArgumentException($"each data set needs {options.Inputs.Count} tensors (one per declared input), one has {wrong.Count}", nameof(dataSets));
        if (exported.Graph?.Initializer.FirstOrDefault(i => i.DataLocation == TensorProto.Types.DataLocation.External) is { } external)
            throw new ArgumentException($"initializer '{external.Name}' is in an external data file; a parity bundle holds its model inline", nameof(exported));

        var sets = new List<TestDataSet>(dataSets.Count);
        var wasTraining = model.training;
        model.eval();
        try
        {
            foreach (var inputs in dataSets)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                var outputs = model.CallRootAll([.. inputs.Select(Value.Eager)]);
                var names = options.NamesOfOutputs(outputs.Count);
                sets.Add(new TestDataSet(
                    [.. inputs.Select((t, i) => new NamedTensor(options.Inputs[i].Name, TensorConvert.ToHost(t)))],
                    [.. outputs.Select((o, i) => new NamedTensor(names[i], TensorConvert.ToHost(o.Tensor)))]));
            }
        }
        finally
        {
            if (wasTraining) model.train();
        }
        OnnxTestCase.Write(folder, exported, sets);
    }
}
