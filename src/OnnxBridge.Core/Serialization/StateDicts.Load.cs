using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization;

// Loading: every key, shape and dtype is checked against the block before any value is read into
// it, and values still in a file are read into fresh tensors before the first parameter changes —
// so a failed load, even one that fails while reading, changes nothing.
public static partial class StateDicts
{
    /// <summary>
    /// Loads the weights of an ONNX model into <paramref name="block"/> (export → load → identical
    /// outputs). Keys the graph does not use are missing from it, so this is usually non-strict
    /// for blocks with unused parameters. Non-persistent buffers (constants kept out of the state
    /// dict, such as d2l's <c>rand_weight</c>) are exported, so they are restored too.
    /// </summary>
    public static LoadResult LoadFromOnnx(Block block, string modelPath, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(block);
        return Load(block, FromHost(ReadOnnxInitializers(modelPath)), $"ONNX model '{modelPath}'", strict, includeNonPersistentBuffers: true);
    }

    /// <summary>
    /// Loads a state dict file (format from the extension unless given) into <paramref name="block"/>.
    /// Every format is read straight into the tensors that become the parameters, with no host copy
    /// (PyTorch views that are not a whole storage excepted), after the block has accepted every key,
    /// shape and dtype.
    /// </summary>
    /// <param name="strict">When true (the default) any missing or unexpected key is an error; otherwise they are returned.</param>
    /// <exception cref="StateDictException">Keys, shapes or dtypes do not fit; the block is unchanged.</exception>
    /// <exception cref="SafetensorsException">A safetensors file is malformed.</exception>
    /// <exception cref="PyTorchFileException">A PyTorch file is malformed or holds more than tensors.</exception>
    /// <exception cref="TorchSharpDatException">A TorchSharp .dat file is malformed or truncated.</exception>
    /// <exception cref="IOException">The file could not be read, or ended early because it changed while loading; the block is unchanged.</exception>
    public static LoadResult Load(Block block, string path, bool strict = true, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(path);
        var resolved = TensorFileFormats.Resolve(path, format);
        if (resolved == TensorFileFormat.PyTorch) return LoadPyTorch(block, path, strict);
        if (resolved == TensorFileFormat.TorchSharp)
        {
            using var dat = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
            var entries = TorchSharpDat.ReadLayout(dat, path).Select(e => (e.Key, new Incoming(e.Key, e.Type, e.Shape, null, e.Offset))).ToList();
            return Load(block, entries, $"'{path}'", strict, includeNonPersistentBuffers: false, ReadAt(dat, path));
        }

        using var file = Safetensors.OpenRead(path);
        var layout = Safetensors.ReadLayout(file, path);
        var stored = layout.Entries.Select(e => (e.Name, new Incoming(e.Name, e.Type, e.Shape, null, layout.BufferStart + e.Begin))).ToList();
        return Load(block, WithAliases(path, stored, layout.Metadata), $"'{path}'", strict, includeNonPersistentBuffers: false, ReadAt(file, path));
    }

    /// <summary>Reads values at their offsets of an open file (safetensors, .dat) into their fresh tensors.</summary>
    private static Action<IReadOnlyList<(Incoming Value, Tensor Fresh)>> ReadAt(FileStream file, string path) =>
        reads => TensorFileReader.ReadAll(file.SafeFileHandle, path, [.. reads.Select(r => new TensorFileReader.Read(r.Fresh, r.Value.FileOffset, r.Value.Name))]);

    /// <summary>A PyTorch archive: whole-storage tensors read from their records into the fresh tensors, each storage once.</summary>
    private static LoadResult LoadPyTorch(Block block, string path, bool strict)
    {
        using var archive = PyTorch.PyTorchFiles.Open(path);
        var incoming = new Dictionary<object, Incoming>(ReferenceEqualityComparer.Instance);
        var stored = StateDictEntries(path, archive.Root).Select(e => (e.Key, incoming.TryGetValue(e.Tensor, out var known) ? known : incoming[e.Tensor] = e.Tensor switch
        {
            HostTensor host => new Incoming(e.Key, host.ElementType, host.Shape, host, -1),
            _ when e.Tensor is PyTorch.PyTorchFiles.StoredTensor lazy => new Incoming(e.Key, lazy.Type, lazy.Shape, null, -1, lazy),
            _ => throw new InvalidOperationException("StateDictEntries gives host or stored tensors only"),
        })).ToList();
        return Load(block, stored, $"'{path}'", strict, includeNonPersistentBuffers: false, reads => archive.ReadAll([.. reads.Select(r => (r.Value.Stored!, r.Fresh))]));
    }

    /// <summary>Loads host tensors keyed by state-dict key into <paramref name="block"/>.</summary>
    public static LoadResult Load(Block block, IReadOnlyList<(string Key, HostTensor Tensor)> state, string source, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(state);
        return Load(block, FromHost(state), source, strict, includeNonPersistentBuffers: false);
    }

    /// <summary>
    /// One value to load: its dtype and shape, known before its bytes are read, and its bytes: in
    /// host memory, at an offset of the file being loaded, or in a record of the PyTorch archive being loaded.
    /// </summary>
    private sealed record Incoming(string Name, DataType Type, IReadOnlyList<long> Shape, HostTensor? Host, long FileOffset, PyTorch.PyTorchFiles.StoredTensor? Stored = null);

    private static List<(string Key, Incoming Value)> FromHost(IReadOnlyList<(string Key, HostTensor Tensor)> state) =>
        [.. state.Select(e => (e.Key, new Incoming(e.Key, e.Tensor.ElementType, e.Tensor.Shape, e.Tensor, -1)))];

    private static LoadResult Load(Block block, IReadOnlyList<(string Key, Incoming Value)> state, string source, bool strict, bool includeNonPersistentBuffers,
        Action<IReadOnlyList<(Incoming Value, Tensor Fresh)>>? readFromFile = null)
    {
        ArgumentNullException.ThrowIfNull(block);
        var loaded = new Dictionary<string, Incoming>(StringComparer.Ordinal);
        foreach (var (key, value) in state) loaded[key] = value;

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
            if (!loaded.TryGetValue(key, out var value)) continue;
            if (!shape.SequenceEqual(value.Shape))
                mismatched.Add($"'{key}': expected shape {HostTensor.FormatShape(shape)}, found {HostTensor.FormatShape(value.Shape)}");
            else if (DTypes.ToOnnx(type) != value.Type)
                mismatched.Add($"'{key}': expected dtype {ElementTypes.Name(DTypes.ToOnnx(type))}, found {ElementTypes.Name(value.Type)}");
        }
        if (mismatched.Count > 0 || (strict && (missing.Count > 0 || unexpected.Count > 0)))
            throw new StateDictException(source, missing, unexpected, mismatched);

        // 3. Read what is still in the file into new tensors, each stored tensor once: an I/O error here changes nothing.
        var fresh = new Dictionary<Incoming, Tensor>(ReferenceEqualityComparer.Instance);
        try
        {
            foreach (var key in expected.Keys)
            {
                if (loaded.TryGetValue(key, out var value) && value.Host is null && !fresh.ContainsKey(value))
                    fresh[value] = empty([.. value.Shape], DTypes.ToTorch(value.Type));
            }
            if (fresh.Count > 0)
                (readFromFile ?? throw new InvalidOperationException("values without host bytes are read from their file"))([.. fresh.Select(kv => (kv.Key, kv.Value))]);

            // 4. Commit: nothing below can fail on account of the file.
            foreach (var (deferred, plan) in plans) deferred.MaterializeFromPlan(plan);
            // A fresh tensor becomes its first target's memory (set_, as PyTorch's assign=True);
            // any other target that is a different tensor gets a copy, so loading never ties tensors.
            var owner = new Dictionary<Incoming, Tensor>(ReferenceEqualityComparer.Instance);
            using (no_grad())
            {
                foreach (var (key, target) in block.named_parameters().Select(p => (p.name, (Tensor)p.parameter)).Concat(block.NamedBuffers(includeNonPersistentBuffers)))
                {
                    if (!loaded.TryGetValue(key, out var value)) continue;
                    if (value.Host is not null)
                    {
                        TensorConvert.CopyInto(value.Host, target);
                        continue;
                    }
                    var values = fresh[value];
                    if (owner.TryGetValue(value, out var first))
                    {
                        if (!ReferenceEquals(first, target)) target.copy_(values);
                        continue;
                    }
                    owner[value] = target;
                    if (target.device_type == TorchSharp.DeviceType.CPU) target.set_(values);
                    else
                    {
                        using var onDevice = values.to(target.device);
                        target.set_(onDevice);
                    }
                }
            }
        }
        finally
        {
            // The parameters hold the storage now; these handles are no longer needed.
            foreach (var tensor in fresh.Values) tensor.Dispose();
        }
        return new LoadResult(missing, unexpected);
    }

    /// <summary>
    /// Plans the parameters of deferred blocks from the loaded shapes and adds their keys to
    /// <paramref name="expected"/>. A shared block appears under each of its paths: it plans from the
    /// first, and the keys under its other paths are returned as aliases of those.
    /// </summary>
    private static (List<(Block Block, IReadOnlyDictionary<string, long[]> Plan)> Plans, Dictionary<string, string> Aliases) PlanDeferredBlocks(
        Block block, Dictionary<string, Incoming> loaded, Dictionary<string, (long[] Shape, ScalarType Type)> expected, List<string> problems)
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
}
