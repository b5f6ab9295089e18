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
public static partial class StateDicts
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
        if (resolved == TensorFileFormat.PyTorch)
        {
            // Keys of one tied tensor point at one storage record, streamed from the tensor's own memory.
            var keys = TieGroups(block).ToList();
            var (records, storages) = PyTorchFiles.AssignStorages(keys.Select(k => state[k.Value]), TensorToWrite.FromTorch);
            PyTorchFiles.Write(path, pickle => pickle.OrderedDict([.. keys.Select((k, i) => (k.Key, records[i], records[i].Name))]), storages);
            return;
        }
        // TorchSharp's .dat has no sharing: each key of a tied tensor writes it again, from its own memory.
        TorchSharpDat.Write(path, [.. TieGroups(block).Select(k => TensorToWrite.FromTorch(k.Key, state[k.Value]))]);
    }

    /// <summary>
    /// The safetensors save, streamed from each tensor's own memory (a contiguous CPU copy only for a
    /// tensor that is not one already): no host copy of the weights. Tied keys are stored once, with
    /// the alias in the metadata, as <see cref="Write"/> does.
    /// </summary>
    private static void SaveSafetensors(Block block, string path, IDictionary<string, Tensor> state)
    {
        var stored = new List<TensorToWrite>();
        var aliases = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, canonical) in TieGroups(block))
        {
            if (key != canonical)
            {
                aliases[key] = canonical;
                continue;
            }
            stored.Add(TensorToWrite.FromTorch(key, state[key]));
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
                var (records, storages) = PyTorchFiles.AssignStorages(entries.Select(e => e.Tensor), TensorToWrite.FromHost);
                PyTorchFiles.Write(path, pickle => pickle.OrderedDict([.. entries.Select((e, i) => (e.Key, records[i], records[i].Name))]), storages);
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
        using var archive = PyTorchFiles.Open(path, lazy: false);
        return [.. StateDictEntries(path, archive.Root).Select(e => (e.Key, (HostTensor)e.Tensor))];
    }

    /// <summary>A PyTorch archive's root as a state dict: each key with its tensor (a host tensor, or a <see cref="PyTorchFiles.StoredTensor"/> when opened lazily).</summary>
    private static IEnumerable<(string Key, object Tensor)> StateDictEntries(string path, object? root)
    {
        if (root is not List<(string Key, object? Value)> dict)
            throw new PyTorchFileException($"'{path}' does not hold a state dict (a dict of tensors)");
        return dict.Select(e => (e.Key, e.Value is HostTensor or PyTorchFiles.StoredTensor ? e.Value
            : throw new PyTorchFileException($"'{path}': entry '{e.Key}' is not a tensor; save model.state_dict() itself, not a checkpoint that contains it")));
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

    private static IReadOnlyList<(string Key, T Tensor)> WithAliases<T>(string path, IReadOnlyList<(string Name, T Tensor)> tensors, IReadOnlyDictionary<string, string> metadata)
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
}
