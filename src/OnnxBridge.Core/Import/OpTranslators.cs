using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Import;

/// <summary>
/// How each ONNX op of the default domain replays through the op layer (<see cref="Ops"/>): one
/// entry per op type, reading the attributes and inputs the way the node's opset defines them.
/// Families live beside this file: element-wise and activations here, networks
/// (<c>OpTranslators.Networks</c>), shapes and reductions (<c>OpTranslators.Shapes</c>), and the ops
/// that run eagerly only (<c>OpTranslators.EagerOnly</c>).
/// </summary>
internal static partial class OpTranslators
{
    private delegate IReadOnlyList<Value> Translator(NodeContext n);

    private static readonly Dictionary<string, Translator> Table = Build();

    /// <summary>Inputs that must be constants (shapes, axes, pads, bounds) or are running statistics: their initializers become buffers.</summary>
    private static readonly Dictionary<string, int[]> ConstantInputs = new(StringComparer.Ordinal)
    {
        ["Reshape"] = [1], ["Unsqueeze"] = [1], ["Squeeze"] = [1], ["Slice"] = [1, 2, 3, 4], ["Split"] = [1],
        ["Expand"] = [1], ["Tile"] = [1], ["Pad"] = [1, 2, 3], ["Clip"] = [1, 2], ["ReduceSum"] = [1], ["ReduceMean"] = [1],
        ["ReduceMax"] = [1], ["ReduceMin"] = [1], ["ReduceProd"] = [1], ["ReduceLogSumExp"] = [1], ["ReduceL2"] = [1],
        ["ReduceSumSquare"] = [1], ["ReduceL1"] = [1], ["ReduceLogSum"] = [1], ["BatchNormalization"] = [3, 4], ["Dropout"] = [1, 2],
        ["ConstantOfShape"] = [0], ["Resize"] = [1, 2, 3], ["Upsample"] = [1], ["Trilu"] = [1], ["CumSum"] = [1], ["OneHot"] = [1, 2],
        ["TopK"] = [1], ["Range"] = [0, 1, 2],
    };

    public static bool Supports(string opType) => Table.ContainsKey(opType);

    public static bool IsConstantInput(string opType, int index) => ConstantInputs.TryGetValue(opType, out var indices) && indices.Contains(index);

    public static IReadOnlyList<Value> Translate(NodeContext n)
    {
        if (!Table.TryGetValue(n.Node.OpType, out var translate)) throw n.Error("the op layer does not cover this op");
        try
        {
            return translate(n);
        }
        catch (Exception e) when (e is Blocks.ForwardException or Export.ExportException or ArgumentException)
        {
            throw n.Error(e.Message);
        }
    }

    private static Dictionary<string, Translator> Build()
    {
        var table = new Dictionary<string, Translator>(StringComparer.Ordinal);
        AddElementwise(table);
        AddNetworks(table);
        AddShapes(table);
        AddEagerOnly(table);
        return table;
    }

    private static IReadOnlyList<Value> One(Value v) => [v];

    private static void Unary(Dictionary<string, Translator> t, string op, Func<Value, Value> f) => t[op] = n => One(f(n.Input(0)));

    private static void AddElementwise(Dictionary<string, Translator> t)
    {
        t["Identity"] = n => One(n.Input(0));
        t["Add"] = n => One(Ops.Add(n.Input(0), LegacyBroadcast(n, n.Input(0), n.Input(1))));
        t["Sub"] = n => One(Ops.Sub(n.Input(0), LegacyBroadcast(n, n.Input(0), n.Input(1))));
        t["Mul"] = n => One(Ops.Mul(n.Input(0), LegacyBroadcast(n, n.Input(0), n.Input(1))));
        t["Div"] = n => One(Ops.Div(n.Input(0), LegacyBroadcast(n, n.Input(0), n.Input(1))));
        // ONNX lets the exponent have another type; the result has the base's.
        t["Pow"] = n => One(Ops.Pow(n.Input(0), n.Input(1).ElementType == n.Input(0).ElementType ? n.Input(1) : Ops.To(n.Input(1), n.Input(0).ElementType)));
        t["Max"] = n => One(n.AllInputs.Aggregate(Ops.Maximum));
        t["Min"] = n => One(n.AllInputs.Aggregate(Ops.Minimum));
        t["Sum"] = n => One(n.AllInputs.Aggregate(Ops.Add));
        t["Mean"] = n => One(n.AllInputs.Aggregate(Ops.Add) / n.AllInputs.Count);
        Unary(t, "Neg", Ops.Neg);
        Unary(t, "Abs", Ops.Abs);
        Unary(t, "Exp", Ops.Exp);
        Unary(t, "Log", Ops.Log);
        Unary(t, "Sqrt", Ops.Sqrt);
        Unary(t, "Reciprocal", Ops.Reciprocal);
        Unary(t, "Erf", Ops.Erf);
        Unary(t, "Sin", Ops.Sin);
        Unary(t, "Cos", Ops.Cos);
        Unary(t, "Floor", Ops.Floor);
        Unary(t, "Ceil", Ops.Ceil);
        Unary(t, "Round", Ops.Round);
        Unary(t, "Sign", Ops.Sign);
        Unary(t, "Tan", Ops.Tan);
        Unary(t, "Asin", Ops.Asin);
        Unary(t, "Acos", Ops.Acos);
        Unary(t, "Atan", Ops.Atan);
        Unary(t, "Sinh", Ops.Sinh);
        Unary(t, "Cosh", Ops.Cosh);
        Unary(t, "Asinh", Ops.Asinh);
        Unary(t, "Acosh", Ops.Acosh);
        Unary(t, "Atanh", Ops.Atanh);
        Unary(t, "Relu", Ops.Relu);
        Unary(t, "Sigmoid", Ops.Sigmoid);
        Unary(t, "Tanh", Ops.Tanh);
        Unary(t, "Softsign", Ops.Softsign);
        Unary(t, "HardSwish", Ops.Hardswish);
        Unary(t, "Mish", Ops.Mish);
        Unary(t, "Not", Ops.LogicalNot);
        t["Softplus"] = n => One(Ops.Softplus(n.Input(0)));
        t["LeakyRelu"] = n => One(Ops.LeakyRelu(n.Input(0), n.Float("alpha", 0.01)));
        t["Elu"] = n => One(Ops.Elu(n.Input(0), n.Float("alpha", 1.0)));
        t["Celu"] = n => One(Ops.Celu(n.Input(0), n.Float("alpha", 1.0)));
        t["Selu"] = n =>
        {
            // ONNX's defaults are PyTorch's constants rounded to float; other values are computed out.
            var (alpha, gamma) = (n.Float("alpha", 1.67326319217681884765625), n.Float("gamma", 1.05070102214813232421875));
            var x = n.Input(0);
            return One(Ops.Where(Ops.Greater(x, Ops.ScalarLike(x, 0)), x, (Ops.Exp(x) - 1) * alpha) * gamma);
        };
        t["HardSigmoid"] = n =>
        {
            var x = n.Input(0);
            return One(Ops.Clamp(x * n.Float("alpha", 0.2) + n.Float("beta", 0.5), 0, 1));
        };
        t["ThresholdedRelu"] = n =>
        {
            var x = n.Input(0);
            return One(Ops.Where(Ops.Greater(x, Ops.ScalarLike(x, n.Float("alpha", 1.0))), x, Ops.ZerosLike(x)));
        };
        t["Shrink"] = n =>
        {
            var x = n.Input(0);
            var (lambda, bias) = (n.Float("lambd", 0.5), n.Float("bias", 0));
            return One(Ops.Where(Ops.Less(x, Ops.ScalarLike(x, -lambda)), x + bias, Ops.Where(Ops.Greater(x, Ops.ScalarLike(x, lambda)), x - bias, Ops.ZerosLike(x))));
        };
        t["PRelu"] = n =>
        {
            var (x, slope) = (n.Input(0), n.Input(1));
            // Before opset 7 a 1-D slope of C values is per channel (dimension 1), not numpy-broadcast.
            if (n.Opset < 7 && slope.Rank == 1 && x.Rank > 2) for (var i = 0; i < x.Rank - 2; i++) slope = Ops.Unsqueeze(slope, slope.Rank);
            return One(Ops.Where(Ops.Less(x, Ops.ScalarLike(x, 0)), x * slope, x));
        };
        t["Gelu"] = n => One(Ops.Gelu(n.Input(0), n.String("approximate", "none") switch
        {
            "none" => false,
            "tanh" => true,
            var other => throw n.Error($"approximate='{other}' is not one of none, tanh"),
        }));
        t["Clip"] = n =>
        {
            var (min, max) = n.Opset < 11
                ? (n.Attribute("min") is null ? (double?)null : n.Float("min", 0), n.Attribute("max") is null ? (double?)null : n.Float("max", 0))
                : (n.ConstantScalar(1), n.ConstantScalar(2));
            return One(min is null && max is null ? n.Input(0) : Ops.Clamp(n.Input(0), min, max));
        };
        t["Softmax"] = n => One(AlongAxisCoerced(n, Ops.Softmax));
        t["LogSoftmax"] = n => One(AlongAxisCoerced(n, Ops.LogSoftmax));
        t["Equal"] = n => One(Ops.Equal(n.Input(0), n.Input(1)));
        t["Greater"] = n => One(Ops.Greater(n.Input(0), n.Input(1)));
        t["Less"] = n => One(Ops.Less(n.Input(0), n.Input(1)));
        t["GreaterOrEqual"] = n => One(Ops.GreaterOrEqual(n.Input(0), n.Input(1)));
        t["LessOrEqual"] = n => One(Ops.LessOrEqual(n.Input(0), n.Input(1)));
        t["And"] = n => One(Ops.LogicalAnd(n.Input(0), n.Input(1)));
        t["Or"] = n => One(Ops.LogicalOr(n.Input(0), n.Input(1)));
        t["Xor"] = n => One(Ops.LogicalXor(n.Input(0), n.Input(1)));
        t["Where"] = n => One(Ops.Where(n.Input(0), n.Input(1), n.Input(2)));
        t["Cast"] = n => One(Ops.To(n.Input(0), (Onnx.Proto.TensorProto.Types.DataType)n.Int("to", 0)));
        t["CastLike"] = n => One(Ops.To(n.Input(0), n.Input(1).ElementType));
        t["Mod"] = n => One(Ops.Mod(n.Input(0), n.Input(1), truncated: n.Int("fmod", 0) != 0));
        t["IsNaN"] = n => One(Ops.IsNaN(n.Input(0)));
        t["IsInf"] = n => One(Ops.IsInf(n.Input(0), n.Int("detect_negative", 1) != 0, n.Int("detect_positive", 1) != 0));
        t["Trilu"] = n => One(n.Int("upper", 1) != 0 ? Ops.Triu(n.Input(0), n.ConstantInts(1)?.Single() ?? 0) : Ops.Tril(n.Input(0), n.ConstantInts(1)?.Single() ?? 0));
        t["NegativeLogLikelihoodLoss"] = n =>
            One(Ops.NllLoss(n.Input(0), n.Input(1), n.OptionalInput(2), n.String("reduction", "mean"), n.Attribute("ignore_index") is null ? null : n.Int("ignore_index", 0)));
        t["SoftmaxCrossEntropyLoss"] = n =>
        {
            var (scores, ignore) = (n.Input(0), n.Attribute("ignore_index") is null ? (long?)null : n.Int("ignore_index", 0));
            var loss = Ops.CrossEntropy(scores, n.Input(1), n.OptionalInput(2), n.String("reduction", "mean"), ignore);
            return n.Node.Output.Count > 1 ? [loss, Ops.LogSoftmax(scores, 1)] : One(loss);
        };
        t["Dropout"] = n =>
        {
            // An exported inference graph's Dropout passes values through; a training block drops, as PyTorch's does.
            var ratio = n.Opset < 12 ? n.Float("ratio", 0.5) : n.ConstantScalar(1) ?? 0.5;
            var x = n.Input(0);
            var training = n.Training || (n.Opset >= 12 && n.InputCount > 2 && n.ConstantInts(2) is [not 0]);
            n.Require(!training || n.OutputsWanted <= 1, "Dropout's mask output in training mode");
            var y = Ops.Custom("Dropout", x, t => nn.functional.dropout(t, ratio, training), v => v);
            // Not dropping, every element is kept: the mask is all true.
            return n.Node.Output.Count > 1 ? [y, Ops.Greater(Ops.OnesLike(x), Ops.ZerosLike(x))] : One(y);
        };
    }

    /// <summary>
    /// Before opset 7, B broadcast to A only with <c>broadcast=1</c>, its dimensions lined up from
    /// <c>axis</c> rather than from the end: B gets trailing 1s so that numpy's rule lines it up there.
    /// </summary>
    private static Value LegacyBroadcast(NodeContext n, Value a, Value b)
    {
        if (n.Opset >= 7 || n.Int("broadcast", 0) == 0 || n.Attribute("axis") is null) return b;
        var axis = n.Int("axis", 0);
        if (axis < 0) axis += a.Rank;
        for (var trailing = a.Rank - axis - b.Rank; trailing > 0; trailing--) b = Ops.Unsqueeze(b, b.Rank);
        return b;
    }

    /// <summary>
    /// Softmax and LogSoftmax: along one axis from opset 13 (default −1); before that (default 1) over
    /// the input coerced to 2-D at the axis, which is the same only when the axis is the last one.
    /// </summary>
    private static Value AlongAxisCoerced(NodeContext n, Func<Value, long, Value> op)
    {
        var x = n.Input(0);
        var axis = n.Int("axis", n.Opset < 13 ? 1 : -1);
        if (axis < 0) axis += x.Rank;
        if (n.Opset >= 13 || axis == x.Rank - 1) return op(x, axis);
        n.Require(x.Shape.All(d => d.IsKnown), $"axis {axis} of a rank-{x.Rank} input with symbolic dimensions (before opset 13 the input is coerced to 2-D)");
        var shape = x.Shape.Select(d => d.Size!.Value).ToArray();
        var flat = Ops.Reshape(x, shape[..(int)axis].Aggregate(1L, (p, d) => p * d), shape[(int)axis..].Aggregate(1L, (p, d) => p * d));
        return Ops.Reshape(op(flat, 1), shape);
    }
}
