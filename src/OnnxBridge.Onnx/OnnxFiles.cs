using Google.Protobuf;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Onnx;

/// <summary>Reading ONNX model files with errors that name the file.</summary>
public static class OnnxFiles
{
    /// <summary>
    /// The most nodes and initializers OnnxBridge reads from one model, counting every subgraph
    /// (Loop and If bodies). Generous for real networks (ResNet-50 has ~180 nodes, GPT-2 ~2,500),
    /// and a bound on the work a hostile file can ask of <c>inspect</c> and <c>verify</c>.
    /// </summary>
    public const int MaxGraphEntries = 1_000_000;

    /// <summary>Parses <paramref name="path"/> as a <see cref="ModelProto"/>.</summary>
    /// <exception cref="OnnxFileException">The file is not a regular file, not a valid ONNX model, or holds more than <see cref="MaxGraphEntries"/> nodes and initializers.</exception>
    public static ModelProto ReadModel(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        ModelProto model;
        try
        {
            using var file = ContainedFiles.OpenRegular(path, "ONNX model");
            model = ModelProto.Parser.ParseFrom(file);
        }
        catch (InvalidProtocolBufferException e)
        {
            throw new OnnxFileException($"'{path}' is not a valid ONNX model: {e.Message}", e);
        }
        if (model.Graph is null) throw new OnnxFileException($"'{path}' is not an ONNX model: it has no graph");
        var entries = CountGraphEntries(model.Graph, MaxGraphEntries);
        if (entries > MaxGraphEntries)
            throw new OnnxFileException($"'{path}' holds more than {MaxGraphEntries:N0} nodes and initializers (subgraphs included); OnnxBridge reads models up to that size");
        return model;
    }

    /// <summary>
    /// A copy of <paramref name="model"/> with every initializer stored in external data (resolved
    /// under <paramref name="folder"/>) read back inline — for writers that need one self-contained
    /// file (a parity bundle, a repository) from a model already exported with external data.
    /// </summary>
    /// <exception cref="OnnxFileException">A data file cannot be read, or the weights pass protobuf's 2 GB limit for one file.</exception>
    public static ModelProto WithInlineData(ModelProto model, string folder)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(folder);
        var copy = model.Clone();
        long bytes = 0;
        var initializers = copy.Graph.Initializer;
        for (int i = 0; i < initializers.Count; i++)
        {
            if (initializers[i].DataLocation != TensorProto.Types.DataLocation.External) continue;
            var tensor = HostTensor.FromProto(initializers[i], folder);
            bytes += tensor.Bytes.Length;
            if (bytes > MaxInlineBytes)
                throw new OnnxFileException($"the initializers hold over {MaxInlineBytes} bytes, past protobuf's 2 GB limit for one file; this writer needs them inline");
            initializers[i] = tensor.ToProto(initializers[i].Name);
        }
        return copy;
    }

    /// <summary>The most initializer bytes one model file can hold inline (protobuf stops at 2 GB, less room for the graph).</summary>
    public const long MaxInlineBytes = (1L << 31) - (64L << 20);

    /// <summary>Nodes and initializers in <paramref name="graph"/> and its subgraphs, counting stops past <paramref name="limit"/>.</summary>
    internal static long CountGraphEntries(GraphProto graph, long limit)
    {
        long count = graph.Node.Count + graph.Initializer.Count;
        foreach (var node in graph.Node)
        {
            if (count > limit) break;
            foreach (var attribute in node.Attribute)
            {
                if (attribute.G is not null) count += CountGraphEntries(attribute.G, limit - count);
                foreach (var sub in attribute.Graphs) count += CountGraphEntries(sub, limit - count);
            }
        }
        return count;
    }
}
