using System.Text;
using OnnxBridge.Onnx.Proto;

namespace OnnxBridge.Onnx.Inspection;

/// <summary>
/// A Graphviz DOT picture of a model's main graph: one box per node labelled with its operator and
/// its name (our exporter names nodes after block paths, <c>/0/Gemm</c>), ellipses for the graph's
/// inputs and outputs, edges labelled with the value names; initializers are listed on the node
/// that reads them rather than drawn, to keep large models legible.
/// </summary>
public static class DotWriter
{
    /// <summary>The DOT text for <paramref name="model"/>.</summary>
    public static string Write(ModelProto model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new OnnxFileException("the model has no graph");
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var producer = new Dictionary<string, string>(StringComparer.Ordinal);
        var text = new StringBuilder();
        text.Append("digraph ").Append(Quote(string.IsNullOrEmpty(graph.Name) ? "model" : graph.Name)).AppendLine(" {");
        text.AppendLine("  rankdir=TB;");
        text.AppendLine("  node [fontname=\"Helvetica\", fontsize=11];");
        text.AppendLine("  edge [fontname=\"Helvetica\", fontsize=9];");

        foreach (var input in graph.Input.Where(i => !initializers.Contains(i.Name)))
        {
            var id = "in_" + producer.Count;
            producer[input.Name] = id;
            text.AppendLine($"  {id} [shape=ellipse, style=filled, fillcolor=\"#dbeafe\", label={Quote(input.Name)}];");
        }
        for (int n = 0; n < graph.Node.Count; n++)
        {
            var node = graph.Node[n];
            var id = "n" + n;
            var weights = node.Input.Where(initializers.Contains).ToList();
            var label = node.OpType + (string.IsNullOrEmpty(node.Name) ? "" : "\n" + node.Name) + (weights.Count == 0 ? "" : "\n[" + string.Join(", ", weights) + "]");
            text.AppendLine($"  {id} [shape=box, style=\"rounded,filled\", fillcolor=\"#f3f4f6\", label={Quote(label)}];");
            foreach (var input in node.Input.Where(i => i.Length > 0 && !initializers.Contains(i)))
            {
                if (producer.TryGetValue(input, out var from)) text.AppendLine($"  {from} -> {id} [label={Quote(input)}];");
            }
            foreach (var output in node.Output) producer[output] = id;
        }
        for (int o = 0; o < graph.Output.Count; o++)
        {
            var id = "out_" + o;
            text.AppendLine($"  {id} [shape=ellipse, style=filled, fillcolor=\"#dcfce7\", label={Quote(graph.Output[o].Name)}];");
            if (producer.TryGetValue(graph.Output[o].Name, out var from)) text.AppendLine($"  {from} -> {id};");
        }
        return text.Append('}').AppendLine().ToString();
    }

    private static string Quote(string text) => "\"" + text.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal) + "\"";
}
