using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// Saving and loading a block's state dict (parameters and persistent buffers, PyTorch's keys) as
/// safetensors. Loading checks everything before changing anything, and materializes deferred
/// parameters from the shapes in the file, as PyTorch's lazy modules do.
/// </summary>
public static class StateDicts
{
    /// <summary>The state dict as host tensors, in the block's key order.</summary>
    public static IReadOnlyList<(string Key, HostTensor Tensor)> Capture(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return [.. module.state_dict().Select(kv => (kv.Key, TensorConvert.ToHost(kv.Value)))];
    }

    /// <summary>Writes the block's state dict to <paramref name="path"/> (safetensors, atomic).</summary>
    /// <exception cref="InvalidOperationException">Some parameters are not materialized yet.</exception>
    public static void Save(Block block, string path)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(path);
        if (block.UnbuiltBlockPaths().FirstOrDefault() is { } unbuilt)
            throw new InvalidOperationException($"block '{(unbuilt.Length == 0 ? "<root>" : unbuilt)}' has deferred parameters that are not materialized yet; run a forward or Build(input) before saving");
        Safetensors.Write(path, Capture(block), new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "OnnxBridge" });
    }

    /// <summary>Loads a safetensors state dict into <paramref name="block"/>.</summary>
    /// <param name="strict">When true (the default) any missing or unexpected key is an error; otherwise they are returned.</param>
    /// <exception cref="StateDictException">Keys, shapes or dtypes do not fit; the block is unchanged.</exception>
    /// <exception cref="SafetensorsException">The file is malformed.</exception>
    public static LoadResult Load(Block block, string path, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(path);
        var (tensors, _) = Safetensors.Read(path);
        return Load(block, tensors, $"'{path}'", strict);
    }

    /// <summary>Loads host tensors keyed by state-dict key into <paramref name="block"/>.</summary>
    public static LoadResult Load(Block block, IReadOnlyList<(string Key, HostTensor Tensor)> state, string source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(state);
        var loaded = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state) loaded[key] = tensor;

        // 1. What the block will hold: current entries plus those deferred blocks plan from the file.
        var expected = new Dictionary<string, (long[] Shape, ScalarType Type)>(StringComparer.Ordinal);
        foreach (var (key, tensor) in block.state_dict()) expected[key] = (tensor.shape, tensor.dtype);
        var mismatched = new List<string>();
        var plans = new List<(Block Block, IReadOnlyDictionary<string, long[]> Plan)>();
        foreach (var (path, module) in block.named_modules().Prepend(("", block)))
        {
            if (module is not Block { HasPendingParameters: true } deferred) continue;
            var prefix = path.Length == 0 ? "" : path + ".";
            var (plan, error) = deferred.PlanMaterialization(local => loaded.TryGetValue(prefix + local, out var t) ? t.Shape : null);
            if (plan is null)
            {
                mismatched.Add($"block '{(path.Length == 0 ? "<root>" : path)}': {error}");
                continue;
            }
            plans.Add((deferred, plan));
            foreach (var (local, shape) in plan) expected[prefix + local] = (shape, ScalarType.Float32);
        }

        // 2. Compare, collecting every problem.
        var missing = expected.Keys.Where(k => !loaded.ContainsKey(k)).ToList();
        var unexpected = loaded.Keys.Where(k => !expected.ContainsKey(k)).ToList();
        foreach (var (key, (shape, type)) in expected)
        {
            if (!loaded.TryGetValue(key, out var tensor)) continue;
            if (!shape.SequenceEqual(tensor.Shape))
                mismatched.Add($"'{key}': expected shape {HostTensor.FormatShape(shape)}, found {HostTensor.FormatShape(tensor.Shape)}");
            else if (DTypes.ToOnnx(type) != tensor.ElementType)
                mismatched.Add($"'{key}': expected dtype {ElementTypes.Name(DTypes.ToOnnx(type))}, found {ElementTypes.Name(tensor.ElementType)}");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictException(source, missing, unexpected, mismatched);

        // 3. Commit: nothing below can fail on account of the file.
        foreach (var (deferred, plan) in plans) deferred.MaterializeFromPlan(plan);
        using (no_grad())
        {
            foreach (var (key, target) in block.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(block.named_buffers()))
            {
                if (!loaded.TryGetValue(key, out var fromFile)) continue;
                using var value = TensorConvert.ToTorch(fromFile);
                target.copy_(value);
            }
        }
        return new LoadResult(missing, unexpected);
    }
}
