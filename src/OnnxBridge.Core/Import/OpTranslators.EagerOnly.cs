using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Import;

/// <summary>
/// Ops the importer runs with TorchSharp directly because the op layer has no ONNX emission for them
/// yet: they train and run eagerly, and exporting a block that still computes one from the graph's
/// inputs fails naming the op (what depends only on constants folds and exports).
/// </summary>
internal static partial class OpTranslators
{
    private static void AddEagerOnly(Dictionary<string, Translator> t)
    {
        t["Hardmax"] = n =>
        {
            var x = n.Input(0);
            var axis = n.Int("axis", n.Opset < 13 ? 1 : -1);
            if (axis < 0) axis += x.Rank;
            n.Require(n.Opset >= 13 || axis == x.Rank - 1, $"Hardmax before opset 13 over axis {axis} of a rank-{x.Rank} input");
            return EagerOnly(n, i => [nn.functional.one_hot(i[0].argmax(axis), i[0].shape[axis]).to(i[0].dtype).movedim([-1], [axis])]);
        };
        t["CumSum"] = n =>
        {
            var axis = n.ConstantInts(1)?.Single() ?? throw n.Error("the axis input is required");
            var (exclusive, reverse) = (n.Int("exclusive", 0) != 0, n.Int("reverse", 0) != 0);
            return EagerOnly(n, i =>
            {
                var x = reverse ? i[0].flip(axis) : i[0];
                var sum = x.cumsum(axis);
                if (exclusive) sum -= x;
                return [reverse ? sum.flip(axis) : sum];
            });
        };
        t["Range"] = n => EagerOnly(n, i => [arange(i[0].ToScalar(), i[1].ToScalar(), i[2].ToScalar(), dtype: i[0].dtype)]);
        t["OneHot"] = n =>
        {
            var axis = n.Int("axis", -1);
            return EagerOnly(n, i =>
            {
                var depth = i[1].to(ScalarType.Int64).item<long>();
                var indices = i[0].to(ScalarType.Int64);
                indices = where(indices.lt(0), indices + depth, indices);   // ONNX counts negative indices from the end
                var valid = indices.ge(0).logical_and(indices.lt(depth));
                var hot = nn.functional.one_hot(where(valid, indices, zeros_like(indices)), depth).logical_and(valid.unsqueeze(-1));
                var result = where(hot, i[2][1], i[2][0]);
                return [axis == -1 || axis == indices.dim() ? result : result.movedim([-1], [axis < 0 ? axis + indices.dim() + 1 : axis])];
            });
        };
        t["TopK"] = n =>
        {
            var k = n.ConstantInts(1)?.Single() ?? throw n.Error("the K input is required");
            var (axis, largest, sorted) = (n.Int("axis", -1), n.Int("largest", 1) != 0, n.Int("sorted", 1) != 0);
            return EagerOnly(n, i =>
            {
                var (values, indices) = i[0].topk((int)k, (int)axis, largest, sorted);
                return [values, indices];
            });
        };
    }

    /// <summary>Runs <paramref name="compute"/> on the inputs' tensors; refuses during export if any input is symbolic.</summary>
    private static IReadOnlyList<Value> EagerOnly(NodeContext n, Func<Tensor[], Tensor[]> compute)
    {
        var inputs = Enumerable.Range(0, n.InputCount).Select(n.OptionalInput).ToList();
        if (inputs.Any(v => v is { IsSymbolic: true }))
            throw n.Error($"{n.Node.OpType} runs eagerly only: the op layer has no ONNX form for it yet, so a block computing it from the graph's inputs cannot be exported");
        return [.. compute([.. inputs.Select(v => v?.Tensor!)]).Select(Value.Eager)];
    }
}
