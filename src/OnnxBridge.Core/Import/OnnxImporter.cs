using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Import;

/// <summary>
/// Turns an ONNX model into a trainable block (<see cref="OnnxGraphBlock"/>): ONNX → blocks → train →
/// ONNX. The model is checked whole first: every node whose op the op layer does not cover is listed
/// in one error, so nothing half-imported is ever returned.
/// </summary>
/// <remarks>
/// <para><b>State-dict keys.</b> An initializer's name is its key when every dot-separated part is
/// non-empty and no part is both a tensor and a prefix of another key — so PyTorch's exported names
/// (<c>0.weight</c>, <c>layer1.0.conv1.weight</c>) stay PyTorch's keys, in nested groups as PyTorch's
/// modules hold them. Any other name has its dots replaced by <c>_</c> (and <c>_2</c>, <c>_3</c>, ...
/// appended if that name is taken), in the graph's initializer order.</para>
/// <para><b>Parameters and buffers.</b> Floating-point initializers are trainable parameters, except
/// BatchNormalization's running mean and variance and those that feed only inputs that must be
/// constant (Reshape's shape, Pad's pads, Clip's bounds, ...), which are buffers, as are all
/// integer and bool initializers.</para>
/// </remarks>
public static class OnnxImporter
{
    /// <summary>
    /// The opsets of the default domain this importer reads: 7–21, and 6 for the models of PyTorch's
    /// older exporter (its binary ops' <c>broadcast</c>/<c>axis</c> attributes are honoured).
    /// </summary>
    public const int MinOpset = 6, MaxOpset = 21;

    /// <summary>Imports the model at <paramref name="path"/> (external data from its folder, contained in it).</summary>
    /// <exception cref="OnnxFileException">The file cannot be read as an ONNX model.</exception>
    /// <exception cref="OnnxImportException">The model uses ops, types or opsets this importer does not cover; every one is listed.</exception>
    public static OnnxGraphBlock Import(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return Import(OnnxFiles.ReadModel(path), Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>Imports a model held in memory; external data, if any, is read from <paramref name="externalDataFolder"/>.</summary>
    public static OnnxGraphBlock Import(ModelProto model, string? externalDataFolder = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new OnnxImportException("the model has no graph");
        var opset = DefaultOpset(model);
        var unsupported = Unsupported(graph, opset);
        if (unsupported.Count > 0)
            throw new OnnxImportException($"the model uses {unsupported.Count} op(s) the op layer does not cover: " +
                string.Join("; ", unsupported.Select(u => $"{u.Key} in {string.Join(", ", u.Value.Take(5).Select(n => $"'{n}'"))}{(u.Value.Count > 5 ? $" and {u.Value.Count - 5} more" : "")}")));

        var initializerNames = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializerNames.Contains(i.Name)).Select(InputOf).ToList();
        if (inputs.Count == 0) throw new OnnxImportException("the graph has no inputs besides its initializers; a block needs at least one input");
        var outputs = graph.Output.Select(o => o.Name).ToList();

        var trainable = TrainableInitializers(graph);
        var keys = StateDictKeys(graph.Initializer.Select(i => i.Name));
        var initializers = graph.Initializer.Select(i =>
        {
            var value = HostTensor.FromProto(i, externalDataFolder);
            return (i.Name, keys[i.Name], value, trainable.Contains(i.Name) && IsFloating(value.ElementType));
        }).ToList();
        return new OnnxGraphBlock(graph, opset, inputs, outputs, initializers);
    }

    /// <summary>
    /// The imported graph as PyTorch's <c>nn.Sequential</c> of real layers (<c>Linear</c>,
    /// <c>Conv1d</c>/<c>Conv2d</c>, <c>BatchNorm</c>, the activations, pooling, <c>Flatten</c>, <c>PixelShuffle</c>, ...), with
    /// the graph block's current weights and the same state-dict keys — or null where the rule does not
    /// hold, and the graph block is the import. The rule: one input and one output; the nodes form a
    /// plain chain (each takes the previous one's output and otherwise only initializers); every node
    /// is an op a layer exports to, in the form that layer writes (Gemm with transB=1 and α=β=1,
    /// symmetric pads, no auto_pad, Flatten at axis 1, ...); and the initializers of each layer are
    /// named <c>N.weight</c>, <c>N.bias</c>, ... with one integer N per layer, increasing along the
    /// chain — as PyTorch and OnnxBridge name a Sequential's. Layers without parameters take the
    /// positions after the layer before them; a position nothing takes (a Dropout an inference export
    /// dropped) holds an <c>Identity</c>.
    /// </summary>
    public static Sequential? AsSequential(OnnxGraphBlock imported)
    {
        ArgumentNullException.ThrowIfNull(imported);
        return SequentialRecognizer.Recognize(imported);
    }

    /// <summary>
    /// The ops of <paramref name="model"/> (subgraphs included) that cannot be imported, as
    /// "OpType (domain, opset N)" with the names of their nodes; empty when every op is covered.
    /// </summary>
    public static IReadOnlyDictionary<string, IReadOnlyList<string>> UnsupportedOps(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new OnnxImportException("the model has no graph");
        var opset = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")?.Version ?? 0;
        return Unsupported(graph, (int)opset).ToDictionary(kv => kv.Key, kv => (IReadOnlyList<string>)kv.Value, StringComparer.Ordinal);
    }

    private static int DefaultOpset(ModelProto model)
    {
        var entry = model.OpsetImport.FirstOrDefault(o => o.Domain is "" or "ai.onnx")
            ?? throw new OnnxImportException("the model imports no version of the default ONNX domain");
        return entry.Version is >= MinOpset and <= MaxOpset ? (int)entry.Version
            : throw new OnnxImportException($"the model is written against opset {entry.Version}; opsets {MinOpset}–{MaxOpset} can be imported");
    }

    /// <summary>Every node, subgraphs included, whose op has no translation: "Op (domain, opset N)" → node names.</summary>
    internal static SortedDictionary<string, List<string>> Unsupported(GraphProto graph, int opset)
    {
        var result = new SortedDictionary<string, List<string>>(StringComparer.Ordinal);
        void Visit(GraphProto g)
        {
            foreach (var node in g.Node)
            {
                var domain = node.Domain is "" or "ai.onnx" ? "" : node.Domain;
                if (domain.Length > 0 || (node.OpType != "Constant" && !OpTranslators.Supports(node.OpType)))
                {
                    var key = $"{node.OpType} ({(domain.Length == 0 ? "ai.onnx" : domain)}, opset {opset})";
                    if (!result.TryGetValue(key, out var nodes)) result[key] = nodes = [];
                    nodes.Add(NodeContext.Describe(node));
                }
                foreach (var attribute in node.Attribute)
                {
                    if (attribute.G is { } sub) Visit(sub);
                    foreach (var each in attribute.Graphs) Visit(each);
                }
            }
        }
        Visit(graph);
        return result;
    }

    private static InputSpec InputOf(ValueInfoProto input)
    {
        if (input.Type?.TensorType is not { } tensor)
            throw new OnnxImportException($"graph input '{input.Name}' is a {input.Type?.ValueCase.ToString() ?? "value without a type"}, not a tensor; only tensor inputs can be imported");
        var type = (DataType)tensor.ElemType;
        var dims = tensor.Shape?.Dim.Select((d, i) => d.ValueCase switch
        {
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue => Dim.Known(d.DimValue),
            TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam => Dim.Named(d.DimParam),
            _ => Dim.Named($"{input.Name}_{i}"),
        }).ToArray() ?? throw new OnnxImportException($"graph input '{input.Name}' has no shape; its rank must be known");
        return new InputSpec(input.Name, type, dims);
    }

    /// <summary>Names of initializers used as ordinary (trainable) operands by at least one node.</summary>
    private static HashSet<string> TrainableInitializers(GraphProto graph)
    {
        var result = new HashSet<string>(StringComparer.Ordinal);
        void Visit(GraphProto g)
        {
            foreach (var node in g.Node)
            {
                for (int i = 0; i < node.Input.Count; i++)
                {
                    if (!OpTranslators.IsConstantInput(node.OpType, i)) result.Add(node.Input[i]);
                }
                foreach (var attribute in node.Attribute)
                {
                    if (attribute.G is { } sub) Visit(sub);
                }
            }
        }
        Visit(graph);
        return result;
    }

    /// <summary>The state-dict key each initializer name gets, in the graph's initializer order (the rule in the remarks above).</summary>
    public static IReadOnlyDictionary<string, string> StateDictKeys(IEnumerable<string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        var tensors = new HashSet<string>(StringComparer.Ordinal);
        var groups = new HashSet<string>(StringComparer.Ordinal);
        foreach (var name in names)
        {
            var parts = name.Split('.');
            var prefixes = Enumerable.Range(1, parts.Length - 1).Select(k => string.Join('.', parts[..k])).ToList();
            var key = name;
            if (parts.Any(p => p.Length == 0) || prefixes.Any(tensors.Contains) || groups.Contains(name) || tensors.Contains(name))
            {
                var flat = name.Replace('.', '_');
                key = flat.Length == 0 ? "_" : flat;
                for (int n = 2; tensors.Contains(key) || groups.Contains(key); n++) key = $"{flat}_{n}";
                prefixes = [];
            }
            tensors.Add(key);
            foreach (var prefix in prefixes) groups.Add(prefix);
            keys[name] = key;
        }
        return keys;
    }

    private static bool IsFloating(DataType type) => type is DataType.Float or DataType.Double or DataType.Float16 or DataType.Bfloat16;
}
