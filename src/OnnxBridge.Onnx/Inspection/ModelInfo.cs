using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Onnx.Inspection;

/// <summary>A graph input or output: name, element type and shape (symbolic dimensions by name, unknown ones as "?").</summary>
public sealed record ValueSummary(string Name, string ElementType, IReadOnlyList<string> Shape);

/// <summary>
/// What <c>onnxbridge inspect</c> shows of a model: versions, inputs and outputs, how many of each
/// operator, parameter count and bytes, and the metadata (producer, weights hash, parity record).
/// </summary>
public sealed record ModelInfo(
    long IrVersion,
    IReadOnlyDictionary<string, long> Opsets,
    string Producer,
    IReadOnlyList<ValueSummary> Inputs,
    IReadOnlyList<ValueSummary> Outputs,
    IReadOnlyDictionary<string, int> OperatorCounts,
    int Initializers,
    long Parameters,
    long ParameterBytes,
    IReadOnlyDictionary<string, string> Metadata)
{
    /// <summary>Summarizes <paramref name="model"/>; subgraph nodes (Loop, If bodies) count too.</summary>
    public static ModelInfo Of(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new OnnxFileException("the model has no graph");
        var initializerNames = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        foreach (var node in AllNodes(graph))
        {
            var op = string.IsNullOrEmpty(node.Domain) ? node.OpType : $"{node.Domain}:{node.OpType}";
            counts[op] = counts.GetValueOrDefault(op) + 1;
        }
        // Sizes are what the file claims, so they are checked: a hostile dims list must not wrap around.
        long parameters = 0, bytes = 0;
        foreach (var initializer in graph.Initializer)
        {
            var type = ElementTypes.Of(initializer);
            long count = 1;
            foreach (var d in initializer.Dims)
            {
                if (d < 0 || (d != 0 && count > long.MaxValue / d))
                    throw new OnnxFileException($"initializer '{initializer.Name}' has shape {HostTensor.FormatShape(initializer.Dims)}, which is negative or holds more than 2^63 elements");
                count *= d;
            }
            var size = ElementTypes.TrySizeOf(type) ?? 0; // strings and 4-bit types have no fixed size; counted as 0 bytes
            if (count > long.MaxValue - parameters || (size != 0 && count > (long.MaxValue - bytes) / size))
                throw new OnnxFileException($"the initializers claim more than 2^63 elements or bytes in all (at '{initializer.Name}', shape {HostTensor.FormatShape(initializer.Dims)})");
            parameters += count;
            bytes += count * size;
        }
        return new ModelInfo(
            model.IrVersion,
            model.OpsetImport.ToDictionary(o => o.Domain.Length == 0 ? "ai.onnx" : o.Domain, o => o.Version),
            $"{model.ProducerName} {model.ProducerVersion}".Trim(),
            [.. graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(Summarize)],
            [.. graph.Output.Select(Summarize)],
            counts,
            graph.Initializer.Count,
            parameters,
            bytes,
            model.MetadataProps.ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal));
    }

    /// <summary>Every node of the graph and of the graphs nested in its attributes, depth first.</summary>
    public static IEnumerable<NodeProto> AllNodes(GraphProto graph)
    {
        ArgumentNullException.ThrowIfNull(graph);
        foreach (var node in graph.Node)
        {
            yield return node;
            foreach (var attribute in node.Attribute)
            {
                foreach (var sub in attribute.Graphs.Prepend(attribute.G).Where(g => g is not null))
                {
                    foreach (var inner in AllNodes(sub)) yield return inner;
                }
            }
        }
    }

    private static ValueSummary Summarize(ValueInfoProto value)
    {
        if (value.Type?.TensorType is not { } tensor)
            return new ValueSummary(value.Name, value.Type?.ValueCase.ToString() ?? "unknown", []);
        var shape = tensor.Shape?.Dim.Select(d => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => d.DimValue.ToString(System.Globalization.CultureInfo.InvariantCulture),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => d.DimParam,
            _ => "?",
        }).ToArray() ?? [];
        return new ValueSummary(value.Name, ElementTypes.Name((TensorProto.Types.DataType)tensor.ElemType), shape);
    }
}
