using System.Reflection;
using System.Security.Cryptography;
using Google.Protobuf;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Export;

/// <summary>
/// Exports a block to ONNX by running its forward symbolically. The result is deterministic (the
/// same block and options give the same bytes), names initializers by state-dict key, keeps named
/// input dimensions symbolic, and records the producer and a SHA-256 of the weights in metadata.
/// </summary>
public static class OnnxExporter
{
    /// <summary>The producer name written into every model.</summary>
    public const string ProducerName = "OnnxBridge";

    /// <summary>The metadata key holding the hex SHA-256 of the initializers (name, type, dims, data).</summary>
    public const string WeightsHashKey = "onnxbridge.weights_sha256";

    /// <summary>Records <paramref name="model"/>'s forward as an ONNX model, every initializer inline.</summary>
    /// <exception cref="ExportException">The forward cannot be recorded; the message names the block path.</exception>
    public static ModelProto Export(Block model, ExportOptions options) => Record(model, options, external: null);

    private static ModelProto Record(Block model, ExportOptions options, ExternalDataWriter? external)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Opset is < ExportOptions.MinOpset or > ExportOptions.MaxOpset)
            throw new ExportException($"opset {options.Opset} is not supported: use {ExportOptions.MinOpset}..{ExportOptions.MaxOpset}");

        var wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            var graph = new GraphRecorder(model, options.Opset);
            List<SymbolicTensor> inputs;
            List<SymbolicTensor> outputs;
            using (graph.Activate())
            {
                inputs = [.. options.Inputs.Select(i => graph.AddInput(i.Name, i.ElementType, i.Shape))];
                var results = model.CallRootAll([.. inputs.Select(Value.Symbolic)]);
                outputs = [.. results.Select(r => r.IsSymbolic ? r.Symbol : graph.UseTensor(r.Tensor))];
            }
            return Assemble(model, options, graph, inputs, outputs, external);
        }
        finally
        {
            if (wasTraining) model.train();
        }
    }

    /// <summary>
    /// Exports and writes the model to <paramref name="path"/> atomically; returns the model. With
    /// <see cref="ExportOptions.ExternalDataThreshold"/> set — or automatically when the weights
    /// would pass protobuf's 2 GB limit — large initializers are streamed straight from the
    /// parameters into a data file beside the model (see <see cref="ExternalDataWriter"/>).
    /// </summary>
    public static ModelProto Save(Block model, ExportOptions options, string path)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(path);
        var threshold = options.ExternalDataThreshold
                        ?? (model.state_dict().Values.Sum(t => t.NumberOfElements * t.ElementSize) > ExternalDataWriter.InlineLimit ? 1 << 20 : null);
        if (threshold is null)
        {
            var inline = Export(model, options);
            AtomicFile.Write(path, inline.WriteTo);
            return inline;
        }
        var external = new ExternalDataWriter(threshold.Value);
        var proto = Record(model, options, external);
        external.Write(path, proto);
        return proto;
    }

    private static ModelProto Assemble(Block model, ExportOptions options, GraphRecorder recorder, IReadOnlyList<SymbolicTensor> inputs, IReadOnlyList<SymbolicTensor> outputs, ExternalDataWriter? external)
    {
        var nodes = recorder.Nodes.ToList();
        var names = options.NamesOfOutputs(outputs.Count);
        foreach (var name in names)
        {
            if (inputs.Any(i => i.Name == name) || recorder.UsedInitializers.Any(u => u.Key == name))
                throw new ExportException($"the output name '{name}' is already the name of an input or of an initializer; choose another OutputName");
        }
        var named = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < outputs.Count; i++)
        {
            // A value given twice (or an input given back) gets an Identity per extra name.
            NameOutput(nodes, outputs[i], names[i], mayRename: named.Add(outputs[i].Name));
        }

        var graph = new GraphProto { Name = options.GraphName ?? model.GetType().Name };
        graph.Node.AddRange(nodes);
        graph.Input.AddRange(inputs.Select(i => ValueInfos.Of(i.Name, i)));
        graph.Output.AddRange(outputs.Select((o, i) => ValueInfos.Of(names[i], o)));

        // Initializers in state-dict order, whatever order the forward used them in.
        var order = model.state_dict().Keys.Select((key, index) => (key, index)).ToDictionary(p => p.key, p => p.index, StringComparer.Ordinal);
        long inlineBytes = 0;
        foreach (var (key, tensor) in recorder.UsedInitializers.OrderBy(u => order.GetValueOrDefault(u.Key, int.MaxValue)).ThenBy(u => u.Key, StringComparer.Ordinal))
        {
            if (external is not null && external.TryAdd(key, tensor) is { } reference)
            {
                graph.Initializer.Add(reference);
                continue;
            }
            var initializer = TensorConvert.ToProto(key, tensor);
            inlineBytes += initializer.RawData.Length;
            if (inlineBytes > ExternalDataWriter.InlineLimit)
                throw new ExportException($"the initializers hold over {ExternalDataWriter.InlineLimit} bytes, past protobuf's 2 GB limit for one message; save with ExportOptions.ExternalDataThreshold (CLI: --external-data-threshold)");
            graph.Initializer.Add(initializer);
        }

        var proto = new ModelProto
        {
            IrVersion = options.IrVersion,
            ProducerName = ProducerName,
            ProducerVersion = ProducerVersion(),
            Graph = graph,
        };
        proto.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = options.Opset });
        // With external data the hash is computed while the data file is written (ExternalDataWriter.Write).
        if (external is null) proto.MetadataProps.Add(new StringStringEntryProto { Key = WeightsHashKey, Value = WeightsHash(graph) });
        return proto;
    }

    /// <summary>Gives a graph output its public name: renames the producing node's output, or adds an Identity.</summary>
    private static void NameOutput(List<NodeProto> nodes, SymbolicTensor output, string outputName, bool mayRename)
    {
        var producer = nodes.FirstOrDefault(n => n.Output.Contains(output.Name));
        var consumed = nodes.Any(n => n.Input.Contains(output.Name));
        if (producer is not null && !consumed && mayRename)
        {
            producer.Output[producer.Output.IndexOf(output.Name)] = outputName;
            return;
        }
        var identity = new NodeProto { Name = "/Identity_output", OpType = "Identity" };
        identity.Input.Add(output.Name);
        identity.Output.Add(outputName);
        nodes.Add(identity);
    }

    /// <summary>SHA-256 over each initializer's serialized TensorProto, in graph order (for graphs with inline initializers).</summary>
    public static string WeightsHash(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        return WeightsHash(graph, new Dictionary<TensorProto, Tensor>());
    }

    /// <summary>
    /// The same hash where the initializers in <paramref name="external"/> have no data yet (it goes to
    /// an external data file): each is hashed as it would serialize inline — its fields, then raw_data
    /// (field 9) from the tensor's memory — so the hash does not depend on where the weights live.
    /// </summary>
    internal static string WeightsHash(GraphProto graph, IReadOnlyDictionary<TensorProto, Tensor> external)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        using var hashing = new HashingStream(sha);
        foreach (var initializer in graph.Initializer)
        {
            initializer.WriteTo(hashing);
            if (!external.TryGetValue(initializer, out var tensor)) continue;
            var header = new byte[11];
            var coded = new CodedOutputStream(header);
            coded.WriteTag(9, WireFormat.WireType.LengthDelimited);
            coded.WriteLength((int)(tensor.NumberOfElements * tensor.ElementSize));
            coded.Flush();
            sha.AppendData(header, 0, (int)coded.Position);
            TensorConvert.WithBytes(tensor, sha.AppendData);
        }
        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static string ProducerVersion() =>
        typeof(OnnxExporter).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "0.0.0";
}
