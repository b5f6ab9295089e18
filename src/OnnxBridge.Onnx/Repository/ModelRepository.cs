using System.Globalization;
using System.Text;
using Google.Protobuf;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Onnx.Repository;

/// <summary>
/// Writes a model into a model repository in NVIDIA Triton's layout,
/// <c>REPO/NAME/VERSION/model.onnx</c> plus <c>REPO/NAME/config.pbtxt</c>, so the inference host —
/// or Triton, or KServe — can serve it unchanged.
/// </summary>
public static class ModelRepository
{
    /// <summary>Writes <paramref name="model"/> as version <paramref name="version"/> of <paramref name="name"/>; returns the model file's path.</summary>
    /// <param name="maxBatchSize">Used when every input and output starts with the same symbolic dimension: that dimension becomes Triton's batch dimension and dynamic batching is on.</param>
    /// <exception cref="ArgumentException">The name or version would leave the repository folder.</exception>
    public static string Write(string repository, string name, int version, ModelProto model, int maxBatchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(repository);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(version);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatchSize);
        if (string.IsNullOrWhiteSpace(name) || name is "." or ".." || name.IndexOfAny(['/', '\\', '\0']) >= 0)
            throw new ArgumentException($"model name '{name}' must be a plain folder name", nameof(name));

        var modelFolder = Path.Combine(repository, name);
        var path = Path.Combine(modelFolder, version.ToString(CultureInfo.InvariantCulture), "model.onnx");
        AtomicFile.WriteAllBytes(path, model.ToByteArray());
        AtomicFile.WriteAllBytes(Path.Combine(modelFolder, "config.pbtxt"), Encoding.UTF8.GetBytes(Config(name, model, maxBatchSize)));
        return path;
    }

    /// <summary>The Triton model configuration for <paramref name="model"/>.</summary>
    public static string Config(string name, ModelProto model, int maxBatchSize = 64)
    {
        ArgumentNullException.ThrowIfNull(model);
        var graph = model.Graph ?? throw new OnnxFileException("the model has no graph");
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        var inputs = graph.Input.Where(i => !initializers.Contains(i.Name)).ToList();
        var all = inputs.Concat(graph.Output).ToList();
        // Triton batches along a leading dimension shared by every input and output.
        var batchSymbol = all.Select(v => v.Type?.TensorType?.Shape?.Dim.FirstOrDefault()).Select(d => d is { ValueCase: TensorShapeProto.Types.Dimension.ValueOneofCase.DimParam } ? d.DimParam : null).Distinct().ToList();
        var batched = batchSymbol.Count == 1 && batchSymbol[0] is not null;

        var text = new StringBuilder();
        text.Append("name: \"").Append(name).AppendLine("\"");
        text.AppendLine("platform: \"onnxruntime_onnx\"");
        // Every version folder is served (Triton's default would serve only the highest): a new
        // version exported beside an old one adds to it; requests without a version get the highest.
        text.AppendLine("version_policy: { all { } }");
        text.Append("max_batch_size: ").AppendLine((batched ? maxBatchSize : 0).ToString(CultureInfo.InvariantCulture));
        Tensors(text, "input", inputs, batched);
        Tensors(text, "output", graph.Output, batched);
        if (batched) text.AppendLine("dynamic_batching { }");
        return text.ToString();
    }

    private static void Tensors(StringBuilder text, string kind, IEnumerable<ValueInfoProto> values, bool batched)
    {
        text.Append(kind).AppendLine(" [");
        var first = true;
        foreach (var value in values)
        {
            var tensor = value.Type?.TensorType ?? throw new NotSupportedException($"{kind} '{value.Name}' is not a tensor; Triton configs here describe tensors only");
            var dims = (tensor.Shape?.Dim ?? []).Skip(batched ? 1 : 0)
                .Select(d => d.ValueCase == TensorShapeProto.Types.Dimension.ValueOneofCase.DimValue ? d.DimValue.ToString(CultureInfo.InvariantCulture) : "-1");
            if (!first) text.AppendLine(",");
            first = false;
            text.Append("  {\n    name: \"").Append(value.Name).Append("\"\n    data_type: ").Append(TritonType((DataType)tensor.ElemType))
                .Append("\n    dims: [ ").Append(string.Join(", ", dims)).Append(" ]\n  }");
        }
        text.AppendLine().AppendLine("]");
    }

    /// <summary>Triton's name for an element type (<c>TYPE_FP32</c>, ...), as config.pbtxt and the config endpoint write it.</summary>
    /// <exception cref="NotSupportedException">Triton has no such type.</exception>
    public static string TritonType(DataType type) => type switch
    {
        DataType.Float => "TYPE_FP32",
        DataType.Double => "TYPE_FP64",
        DataType.Float16 => "TYPE_FP16",
        DataType.Bfloat16 => "TYPE_BF16",
        DataType.Int8 => "TYPE_INT8",
        DataType.Int16 => "TYPE_INT16",
        DataType.Int32 => "TYPE_INT32",
        DataType.Int64 => "TYPE_INT64",
        DataType.Uint8 => "TYPE_UINT8",
        DataType.Uint16 => "TYPE_UINT16",
        DataType.Uint32 => "TYPE_UINT32",
        DataType.Uint64 => "TYPE_UINT64",
        DataType.Bool => "TYPE_BOOL",
        DataType.String => "TYPE_STRING",
        _ => throw new NotSupportedException($"Triton has no data type for {OnnxBridge.Onnx.Tensors.ElementTypes.Name(type)}"),
    };
}
