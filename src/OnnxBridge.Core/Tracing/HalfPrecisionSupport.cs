using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Tracing;

/// <summary>
/// Which ONNX operators take float16 and bfloat16 tensors at the opsets we emit (13–21), from the
/// type constraints of onnx 1.12's operator schemas (the newest onnx the checker here has:
/// <c>onnx.defs.get_schema(op, 17).type_constraints</c>, walked back to 13 for the "since" table). An
/// op missing a type at opset 17 is refused at every opset we target: ONNX only ever adds types,
/// so this never refuses what a model may hold, at worst what opset 18–21 newly allows. A refused
/// export names the op, the type and the opset, never emits an invalid model.
/// </summary>
internal static class HalfPrecisionSupport
{
    /// <summary>Float-computing ops whose schemas have no bfloat16 at opset 17 (among them Conv, pooling and InstanceNormalization: ONNX added bfloat16 to those in opset 22).</summary>
    private static readonly HashSet<string> NoBFloat16 = new(StringComparer.Ordinal)
    {
        "Acos", "Acosh", "Asin", "Asinh", "Atan", "Atanh", "AveragePool", "Celu", "ConstantOfShape", "Conv", "ConvTranspose",
        "Cos", "Cosh", "Det", "Einsum", "Elu", "EyeLike", "GRU", "GlobalAveragePool", "GlobalLpPool", "GlobalMaxPool",
        "GridSample", "HardSigmoid", "HardSwish", "InstanceNormalization", "IsInf", "LSTM", "LpNormalization", "LpPool",
        "MaxPool", "MaxRoiPool", "MaxUnpool", "OneHot", "RNN", "Range", "ReverseSequence", "RoiAlign", "Round", "Selu",
        "Shrink", "Sin", "Sinh", "Softplus", "Softsign", "Tan", "ThresholdedRelu", "TopK", "Unique",
        // Introduced after opset 17 without bfloat16 (Mish-18).
        "Mish",
    };

    /// <summary>Ops that gained bfloat16 after opset 13: the first opset that takes it.</summary>
    private static readonly Dictionary<string, int> BFloat16Since = new(StringComparer.Ordinal)
    {
        ["BatchNormalization"] = 14, ["CumSum"] = 14, ["Trilu"] = 14, ["GreaterOrEqual"] = 16, ["LessOrEqual"] = 16,
        ["LeakyRelu"] = 16, ["PRelu"] = 16, ["Where"] = 16, ["If"] = 16, ["Loop"] = 16, ["Scan"] = 16, ["LayerNormalization"] = 17,
    };

    /// <summary>Float-computing ops whose schemas have no float16 at opset 17.</summary>
    private static readonly HashSet<string> NoFloat16 = new(StringComparer.Ordinal) { "Celu", "IsInf", "Range" };

    /// <summary>Why <paramref name="op"/> at <paramref name="opset"/> cannot take a value of <paramref name="type"/>, or null when it can.</summary>
    public static string? Problem(string op, int opset, DataType type) => type switch
    {
        DataType.Bfloat16 when NoBFloat16.Contains(op) => $"ONNX's {op} takes no bfloat16 tensors (onnx 1.12's schema, opset 17; exporting at opset {opset}); export the network in float16 or float32, or keep this part in float32 with .To(DataType.Float)",
        DataType.Bfloat16 when BFloat16Since.TryGetValue(op, out var since) && opset < since => $"ONNX's {op} takes bfloat16 from opset {since}; export with --opset {since} or later",
        DataType.Float16 when NoFloat16.Contains(op) => $"ONNX's {op} takes no float16 tensors (onnx 1.12's schema, opset 17; exporting at opset {opset}); keep this part in float32 with .To(DataType.Float)",
        _ => null,
    };
}
