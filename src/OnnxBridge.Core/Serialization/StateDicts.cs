using System.Text.Json;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Serialization.PyTorch;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// Saving and loading a block's state dict (parameters and persistent buffers, PyTorch's keys) as
/// safetensors, and loading one from an exported ONNX model's initializers. Loading checks
/// everything before changing anything, and materializes deferred parameters from the shapes in the
/// file, as PyTorch's lazy modules do. Tied parameters (one tensor under several keys) are stored
/// once; the other keys are recorded as aliases and restored through the block's own tying.
/// </summary>
public static class StateDicts
{
    /// <summary>Safetensors metadata key: a JSON object mapping each alias key to the stored key of the same tensor.</summary>
    public const string TiedKeysMetadata = "onnxbridge.tied";

    /// <summary>The state dict as host tensors, in the block's key order.</summary>
    public static IReadOnlyList<(string Key, HostTensor Tensor)> Capture(nn.Module module)
    {
        ArgumentNullException.ThrowIfNull(module);
        return [.. module.state_dict().Select(kv => (kv.Key, TensorConvert.ToHost(kv.Value)))];
    }

    /// <summary>
    /// Writes the block's state dict to <paramref name="path"/> atomically, in the format its
    /// extension names (<c>.safetensors</c>, <c>.pt</c>/<c>.pth</c>/<c>.bin</c>) unless given.
    /// Tied parameters are stored once.
    /// </summary>
    /// <exception cref="InvalidOperationException">Some parameters are not materialized yet.</exception>
    public static void Save(Block block, string path, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(path);
        var resolved = TensorFileFormats.Resolve(path, format);
        if (block.UnbuiltBlockPaths().FirstOrDefault() is { } unbuilt)
            throw new InvalidOperationException($"block '{(unbuilt.Length == 0 ? "<root>" : unbuilt)}' has deferred parameters that are not materialized yet; run a forward or Build(input) before saving");

        var state = block.state_dict();
        if (resolved == TensorFileFormat.Safetensors)
        {
            SaveSafetensors(block, path, state);
            return;
        }
        // Keys of one tied tensor share one HostTensor, which each format stores once where it can.
        var hostOf = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        var entries = new List<(string Key, HostTensor Tensor)>();
        foreach (var (key, canonical) in TieGroups(block))
        {
            if (key == canonical) hostOf[key] = TensorConvert.ToHost(state[key]);
            entries.Add((key, hostOf[canonical]));
        }
        Write(path, entries, resolved);
    }

    /// <summary>
    /// The safetensors save, streamed from each tensor's own memory (a contiguous CPU copy only for a
    /// tensor that is not one already): no host copy of the weights. Tied keys are stored once, with
    /// the alias in the metadata, as <see cref="Write"/> does.
    /// </summary>
    private static void SaveSafetensors(Block block, string path, IDictionary<string, Tensor> state)
    {
        var stored = new List<Safetensors.TensorToWrite>();
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, canonical) in TieGroups(block))
        {
            if (key != canonical)
            {
                aliases[key] = canonical;
                continue;
            }
            var tensor = state[key];
            stored.Add(new(key, DTypes.ToOnnx(tensor.dtype), tensor.shape, tensor.NumberOfElements * tensor.ElementSize, stream =>
            {
                using var scope = NewDisposeScope();
                var cpu = tensor.detach().cpu().contiguous();
                stream.Write(cpu.bytes);
            }));
        }
        Safetensors.Write(path, stored, SafetensorsMetadata(aliases));
    }

    private static Dictionary<string, string> SafetensorsMetadata(Dictionary<string, string> aliases)
    {
        var metadata = new Dictionary<string, string> { ["format"] = "pt", ["producer"] = "OnnxBridge" };
        if (aliases.Count > 0) metadata[TiedKeysMetadata] = JsonSerializer.Serialize(aliases);
        return metadata;
    }

    /// <summary>
    /// Writes host tensors as a state dict, atomically. Entries that are the same
    /// <see cref="HostTensor"/> object are tied: safetensors stores them once plus an alias in its
    /// metadata, PyTorch files point them at one storage, TorchSharp .dat files (no sharing) repeat them.
    /// </summary>
    public static void Write(string path, IReadOnlyList<(string Key, HostTensor Tensor)> entries, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(entries);
        switch (TensorFileFormats.Resolve(path, format))
        {
            case TensorFileFormat.TorchSharp:
                TorchSharpDat.Write(path, entries);
                break;
            case TensorFileFormat.PyTorch:
                var (keys, storages) = PyTorchFiles.AssignStorages(entries.Select(e => e.Tensor));
                PyTorchFiles.Write(path, pickle => pickle.OrderedDict([.. entries.Select((e, i) => (e.Key, e.Tensor, keys[i]))]), storages);
                break;
            default:
                var firstKey = new Dictionary<HostTensor, string>(ReferenceEqualityComparer.Instance);
                var stored = new List<(string, HostTensor)>();
                var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
                foreach (var (key, tensor) in entries)
                {
                    if (firstKey.TryGetValue(tensor, out var target)) aliases[key] = target;
                    else { firstKey[tensor] = key; stored.Add((key, tensor)); }
                }
                Safetensors.Write(path, stored, SafetensorsMetadata(aliases));
                break;
        }
    }

    /// <summary>Reads a state dict file (any supported format) as host tensors, without a block.</summary>
    public static IReadOnlyList<(string Key, HostTensor Tensor)> Read(string path, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        var resolved = TensorFileFormats.Resolve(path, format);
        if (resolved == TensorFileFormat.TorchSharp) return TorchSharpDat.Read(path);
        if (resolved == TensorFileFormat.Safetensors)
        {
            var (tensors, metadata) = Safetensors.Read(path);
            return WithAliases(path, tensors, metadata);
        }
        if (PyTorchFiles.Read(path) is not List<(string Key, object? Value)> dict)
            throw new PyTorchFileException($"'{path}' does not hold a state dict (a dict of tensors)");
        return [.. dict.Select(e => (e.Key, e.Value as HostTensor
            ?? throw new PyTorchFileException($"'{path}': entry '{e.Key}' is not a tensor; save model.state_dict() itself, not a checkpoint that contains it")))];
    }

    /// <summary>The initializers of an ONNX model (ours: named by state-dict key) as a state dict.</summary>
    /// <exception cref="Onnx.OnnxFileException">The model cannot be read or an initializer is malformed.</exception>
    public static IReadOnlyList<(string Key, HostTensor Tensor)> ReadOnnxInitializers(string modelPath)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        var model = OnnxFiles.ReadModel(modelPath);
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        return [.. (model.Graph?.Initializer ?? []).Select(i => (i.Name, HostTensor.FromProto(i, folder)))];
    }

    /// <summary>
    /// Loads the weights of an ONNX model into <paramref name="block"/> (export → load → identical
    /// outputs). Keys the graph does not use are missing from it, so this is usually non-strict
    /// for blocks with unused parameters. Non-persistent buffers (constants kept out of the state
    /// dict, such as d2l's <c>rand_weight</c>) are exported, so they are restored too.
    /// </summary>
    public static LoadResult LoadFromOnnx(Block block, string modelPath, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(block);
        return Load(block, ReadOnnxInitializers(modelPath), $"ONNX model '{modelPath}'", strict, includeNonPersistentBuffers: true);
    }

    /// <summary>Loads a state dict file (format from the extension unless given) into <paramref name="block"/>.</summary>
    /// <param name="strict">When true (the default) any missing or unexpected key is an error; otherwise they are returned.</param>
    /// <exception cref="StateDictException">Keys, shapes or dtypes do not fit; the block is unchanged.</exception>
    /// <exception cref="SafetensorsException">A safetensors file is malformed.</exception>
    /// <exception cref="PyTorchFileException">A PyTorch file is malformed or holds more than tensors.</exception>
    /// <exception cref="TorchSharpDatException">A TorchSharp .dat file is malformed or truncated.</exception>
    public static LoadResult Load(Block block, string path, bool strict = true, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(block);
        return Load(block, Read(path, format), $"'{path}'", strict);
    }

    /// <summary>
    /// Plans the parameters of deferred blocks from the loaded shapes and adds their keys to
    /// <paramref name="expected"/>. A shared block appears under each of its paths: it plans from the
    /// first, and the keys under its other paths are returned as aliases of those.
    /// </summary>
    private static (List<(Block Block, IReadOnlyDictionary<string, long[]> Plan)> Plans, Dictionary<string, string> Aliases) PlanDeferredBlocks(
        Block block, Dictionary<string, HostTensor> loaded, Dictionary<string, (long[] Shape, ScalarType Type)> expected, List<string> problems)
    {
        var pathsOf = new Dictionary<Block, List<string>>(ReferenceEqualityComparer.Instance);
        foreach (var (path, module) in block.named_modules().Prepend(("", block)))
        {
            if (module is not Block { HasPendingParameters: true } deferred) continue;
            if (!pathsOf.TryGetValue(deferred, out var paths)) pathsOf[deferred] = paths = [];
            paths.Add(path);
        }
        var plans = new List<(Block, IReadOnlyDictionary<string, long[]>)>();
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (deferred, paths) in pathsOf)
        {
            var prefix = Prefix(paths[0]);
            var (plan, error) = deferred.PlanMaterialization(local => loaded.TryGetValue(prefix + local, out var t) ? t.Shape : null);
            if (plan is null)
            {
                problems.Add($"block '{(paths[0].Length == 0 ? "<root>" : paths[0])}': {error}");
                continue;
            }
            plans.Add((deferred, plan));
            foreach (var (local, shape) in plan)
            {
                foreach (var path in paths)
                {
                    expected[Prefix(path) + local] = (shape, deferred.DeferredType);
                    aliases[Prefix(path) + local] = prefix + local;
                }
            }
        }
        return (plans, aliases);
    }

    private static string Prefix(string path) => path.Length == 0 ? "" : path + ".";

    /// <summary>Each state-dict key with the first key holding the same tensor object (itself when not tied).</summary>
    private static Dictionary<string, string> TieGroups(Block block)
    {
        var first = new Dictionary<Tensor, string>(ReferenceEqualityComparer.Instance);
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, tensor) in block.state_dict())
        {
            if (!first.TryGetValue(tensor, out var canonical)) first[tensor] = canonical = key;
            result[key] = canonical;
        }
        return result;
    }

    private static IReadOnlyList<(string Key, HostTensor Tensor)> WithAliases(string path, IReadOnlyList<(string Name, HostTensor Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(TiedKeysMetadata, out var json)) return tensors;
        Dictionary<string, string>? aliases;
        try
        {
            aliases = JsonSerializer.Deserialize<Dictionary<string, string>>(json);
        }
        catch (JsonException e)
        {
            throw new SafetensorsException($"'{path}': metadata '{TiedKeysMetadata}' is not a JSON object of strings: {e.Message}", e);
        }
        var byName = tensors.ToDictionary(t => t.Name, t => t.Tensor, StringComparer.Ordinal);
        var result = tensors.ToList();
        foreach (var (alias, target) in aliases ?? [])
        {
            if (byName.ContainsKey(alias) || !byName.TryGetValue(target, out var tensor))
                throw new SafetensorsException($"'{path}': tied key '{alias}' must name a stored tensor that is not itself stored, but points to '{target}'");
            result.Add((alias, tensor));
        }
        return result;
    }

    /// <summary>Loads host tensors keyed by state-dict key into <paramref name="block"/>.</summary>
    public static LoadResult Load(Block block, IReadOnlyList<(string Key, HostTensor Tensor)> state, string source, bool strict = true) =>
        Load(block, state, source, strict, includeNonPersistentBuffers: false);

    private static LoadResult Load(Block block, IReadOnlyList<(string Key, HostTensor Tensor)> state, string source, bool strict, bool includeNonPersistentBuffers)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(state);
        var loaded = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var (key, tensor) in state) loaded[key] = tensor;

        // 1. What the block will hold: current entries plus those deferred blocks plan from the file.
        var expected = new Dictionary<string, (long[] Shape, ScalarType Type)>(StringComparer.Ordinal);
        foreach (var (key, tensor) in block.state_dict()) expected[key] = (tensor.shape, tensor.dtype);
        if (includeNonPersistentBuffers)
        {
            foreach (var (key, buffer) in block.NamedBuffers(includeNonPersistent: true)) expected.TryAdd(key, (buffer.shape, buffer.dtype));
        }
        var mismatched = new List<string>();
        var (plans, plannedAliases) = PlanDeferredBlocks(block, loaded, expected, mismatched);

        // 2. Compare, collecting every problem. Keys of one tied tensor stand in for each other.
        var groups = TieGroups(block);
        foreach (var (alias, canonical) in plannedAliases) groups[alias] = canonical;
        foreach (var (alias, canonical) in groups)
        {
            if (!loaded.ContainsKey(alias) && loaded.TryGetValue(canonical, out var t)) loaded[alias] = t;
        }
        foreach (var (alias, canonical) in groups)
        {
            if (!loaded.ContainsKey(canonical) && loaded.TryGetValue(alias, out var t)) loaded[canonical] = t;
        }
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
            foreach (var (key, target) in block.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(block.NamedBuffers(includeNonPersistentBuffers)))
            {
                if (!loaded.TryGetValue(key, out var fromFile)) continue;
                TensorConvert.CopyInto(fromFile, target);
            }
        }
        return new LoadResult(missing, unexpected);
    }
}
