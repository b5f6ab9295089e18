using System.Globalization;
using System.IO.Compression;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>
/// PyTorch's file format (<c>torch.save</c> since 1.6): a zip archive with a pickle
/// (<c>archive/data.pkl</c>) whose tensors point at raw little-endian storages
/// (<c>archive/data/KEY</c>). We write what PyTorch writes, so <c>torch.load(path,
/// weights_only=True)</c> accepts our files; we read them with a restricted unpickler
/// (<see cref="PickleReader"/>) that never runs code and checks every size against the file.
/// </summary>
internal static partial class PyTorchFiles
{
    /// <summary>The root folder name inside archives we write (PyTorch uses the file's stem; any name works).</summary>
    private const string Root = "archive";

    /// <summary>Writes the root object: an OrderedDict of tensors, a list of tensors, or one tensor.</summary>
    /// <param name="storages">Each storage once, named by its key; tensors that share a key (tied) point at the same record.</param>
    /// <exception cref="InvalidOperationException">A storage wrote another number of bytes than it declared (nothing is left at <paramref name="path"/>).</exception>
    public static void Write(string path, Action<PickleWriter> pickle, IReadOnlyList<TensorToWrite> storages)
    {
        var writer = new PickleWriter();
        pickle(writer);
        var data = writer.Finish();
        AtomicFile.Write(path, stream =>
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
            WriteRecord(zip, "data.pkl", data);
            WriteRecord(zip, "byteorder", "little"u8.ToArray());
            foreach (var storage in storages)
            {
                using var record = zip.CreateEntry($"{Root}/data/{storage.Name}", CompressionLevel.NoCompression).Open();
                storage.WriteTo(record);
            }
            WriteRecord(zip, "version", "3\n"u8.ToArray());
        });
    }

    /// <summary>Reads the root object; tensors come back as <see cref="HostTensor"/>s, lists as lists, dicts as ordered key lists.</summary>
    /// <exception cref="PyTorchFileException">The file is malformed, not a zip, or asks for more than tensors.</exception>
    public static object? Read(string path)
    {
        using var archive = Open(path, lazy: false);
        return archive.Root;
    }

    /// <summary>
    /// Opens an archive for loading straight into tensor memory: the pickle is read and every tensor
    /// view checked as <see cref="Read"/> does, but a tensor that is its whole storage in order (what
    /// <c>torch.save</c> of a state dict writes) comes back as a <see cref="StoredTensor"/>, read
    /// later into its destination with no host copy; other views are materialized as host tensors.
    /// The archive stays open until disposed.
    /// </summary>
    /// <exception cref="PyTorchFileException">The file is malformed, not a zip, or asks for more than tensors.</exception>
    public static OpenArchive Open(string path, bool lazy = true)
    {
        var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        try
        {
            Span<byte> magic = stackalloc byte[4];
            if (file.Length < 4 || file.Read(magic) != 4 || magic[0] != 'P' || magic[1] != 'K' || magic[2] != 3 || magic[3] != 4)
                throw new PyTorchFileException($"'{path}' is not a PyTorch zip archive (files from torch.save before PyTorch 1.6, or other formats, are not supported)");
            file.Position = 0;
            var zip = new ZipArchive(file, ZipArchiveMode.Read, leaveOpen: true);
            try
            {
                return new OpenArchive(file, zip, new ArchiveReader(path, zip, file.Length, lazy).ReadRoot());
            }
            catch
            {
                zip.Dispose();
                throw;
            }
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or IOException or NotSupportedException or Onnx.OnnxFileException)
        {
            file.Dispose();
            throw new PyTorchFileException($"'{path}' is not a readable PyTorch archive: {e.Message}", e);
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    private static void WriteRecord(ZipArchive zip, string name, ReadOnlySpan<byte> bytes)
    {
        var entry = zip.CreateEntry($"{Root}/{name}", CompressionLevel.NoCompression);
        using var stream = entry.Open();
        stream.Write(bytes);
    }

    /// <summary>One read: the archive, its pickle, and each storage read once.</summary>
    private sealed class ArchiveReader(string path, ZipArchive zip, long fileLength, bool lazy)
    {
        /// <summary>
        /// How deep lists and dicts may nest: torch.save of a state dict or a tensor container writes
        /// two or three levels; this stops deep or self-containing pickles long before the stack.
        /// </summary>
        private const int MaxNesting = 32;

        /// <summary>
        /// How many entries the expanded object may have: memo references let a few hundred bytes of
        /// pickle stand for 10⁹ entries (a "memo bomb"), which would otherwise run for minutes.
        /// </summary>
        private const int MaxEntries = 1_000_000;

        private readonly Dictionary<string, byte[]> _storages = new(StringComparer.Ordinal);
        private readonly Dictionary<TensorRef, object> _tensors = new(ReferenceEqualityComparer.Instance);
        private readonly Dictionary<string, StoredTensor> _stored = new(StringComparer.Ordinal);
        private readonly HashSet<object> _open = new(ReferenceEqualityComparer.Instance);
        private int _entries;
        private string _prefix = "";

        public object? ReadRoot()
        {
            // Two records under one name would let two readers see different bytes (one takes the
            // first, another the last), and PyTorch cannot read encrypted records: refuse both.
            var names = new HashSet<string>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!names.Add(entry.FullName)) throw Bad($"record '{entry.FullName}' appears twice in the archive");
                if (entry.IsEncrypted) throw Bad($"record '{entry.FullName}' is encrypted; PyTorch archives never are");
            }
            var pickles = zip.Entries.Where(e => e.FullName.EndsWith("data.pkl", StringComparison.Ordinal)).ToList();
            if (pickles.Count != 1) throw Bad($"expected one data.pkl record, found {pickles.Count}");
            _prefix = pickles[0].FullName[..^"data.pkl".Length];
            var root = PickleReader.Load(ReadEntry(pickles[0]), $"'{path}'", PersistentLoad);
            Check(root, 0);
            return Resolve(root);
        }

        private StorageRef PersistentLoad(object?[] pid)
        {
            if (pid.Length != 5 || pid[0] as string != "storage" || pid[1] is not GlobalRef { Kind: PickleGlobal.Storage } type
                || pid[2] is not string key || pid[4] is not long count)
                throw Bad("a persistent id is not ('storage', torch.XStorage, key, location, numel)");
            if (count < 0) throw Bad($"storage '{key}' claims {count} elements");
            var entry = Entry(key);
            var size = ElementTypes.SizeOf(type.StorageType);
            if (count > entry.Length / size)
                throw Bad($"storage '{key}' claims {count} {ElementTypes.Name(type.StorageType)} elements but its record holds {entry.Length} bytes");
            return new StorageRef(key, type.StorageType, count);
        }

        /// <summary>
        /// Walks the unpickled object before anything is built from it: bounded nesting, no container
        /// inside itself, and a bounded number of entries once memo references are expanded.
        /// </summary>
        private void Check(object? value, int depth)
        {
            if (++_entries > MaxEntries) throw Bad($"the pickle expands to more than {MaxEntries:N0} entries (memo references repeat them); a state dict has far fewer");
            if (value is not (Dictionary<object, object?> or List<object?>)) return;
            if (depth > MaxNesting) throw Bad($"lists and dicts nest deeper than {MaxNesting} levels; a state dict nests two");
            if (!_open.Add(value)) throw Bad("a list or dict contains itself");
            foreach (var item in value is Dictionary<object, object?> dict ? (IEnumerable<object?>)dict.Values : (List<object?>)value) Check(item, depth + 1);
            _open.Remove(value);
        }

        private object? Resolve(object? value)
        {
            if (value is TensorRef tensor)
            {
                // One tensor object referenced many times (memo) is materialized once, as PyTorch does.
                if (!_tensors.TryGetValue(tensor, out var resolved)) _tensors[tensor] = resolved = Materialize(tensor);
                return resolved;
            }
            return value switch
            {
                Dictionary<object, object?> dict => dict.Select(kv => (kv.Key as string ?? throw Bad("a dict key is not a string"), Resolve(kv.Value))).ToList(),
                List<object?> list => list.Select(Resolve).ToList(),
                _ => throw Bad($"holds a {value?.GetType().Name ?? "None"}, not a tensor, list or dict of tensors"),
            };
        }

        /// <summary>The tensor as a host tensor, or (lazily) a <see cref="StoredTensor"/> when it is its whole storage in order.</summary>
        private object Materialize(TensorRef tensor)
        {
            var storage = tensor.Storage;
            var size = ElementTypes.SizeOf(storage.ElementType);
            if (tensor.Shape.Length != tensor.Stride.Length || tensor.Shape.Length > 64 || tensor.Offset < 0
                || tensor.Shape.Any(d => d < 0) || tensor.Stride.Any(s => s < 0))
                throw Bad($"tensor view offset {tensor.Offset}, size [{string.Join(", ", tensor.Shape)}], stride [{string.Join(", ", tensor.Stride)}] is invalid");
            long count = 1, last = tensor.Offset;
            foreach (var (d, s) in tensor.Shape.Zip(tensor.Stride))
            {
                // A broadcast view (stride 0, torch.expand) may hold more elements than its storage;
                // materialized, it is bounded by MaxExpandedElements instead.
                if (d != 0 && count > Math.Max(storage.ElementCount, MaxExpandedElements(size)) / d)
                    throw Bad($"tensor of size [{string.Join(", ", tensor.Shape)}] is larger than its storage '{storage.Key}' allows");
                count *= d;
                // Checked: a stride of 2^62 must not wrap around into a small, in-bounds offset.
                if (d > 0 && (s > (long.MaxValue - last) / Math.Max(1, d - 1)))
                    throw Bad($"tensor view stride [{string.Join(", ", tensor.Stride)}] with size [{string.Join(", ", tensor.Shape)}] reaches past any storage");
                if (d > 0) last += (d - 1) * s;
            }
            if (count > 0 && last >= storage.ElementCount)
                throw Bad($"tensor view reaches element {last} of storage '{storage.Key}', which has {storage.ElementCount}");

            var whole = tensor.Offset == 0 && count == storage.ElementCount && IsRowMajor(tensor.Shape, tensor.Stride);
            // Tensors of one storage share one StoredTensor (tied weights are one stored tensor, as in safetensors).
            if (whole && lazy)
            {
                var shared = $"{storage.Key}/{string.Join(",", tensor.Shape)}";
                if (!_stored.TryGetValue(shared, out var stored))
                    _stored[shared] = stored = new StoredTensor(path, Bounded(Entry(storage.Key)), storage.ElementType, tensor.Shape);
                return stored;
            }
            if (!_storages.TryGetValue(storage.Key, out var bytes))
                _storages[storage.Key] = bytes = ReadEntry(Entry(storage.Key));
            // The common case, a tensor that is its whole storage, keeps the storage's buffer (HostTensors are immutable).
            if (whole) return HostTensor.Wrap(storage.ElementType, tensor.Shape, bytes);
            var result = new byte[count * size];
            if (IsRowMajor(tensor.Shape, tensor.Stride))
            {
                bytes.AsSpan((int)(tensor.Offset * size), result.Length).CopyTo(result);
            }
            else
            {
                var index = new long[tensor.Shape.Length];
                for (long n = 0; n < count; n++)
                {
                    long element = tensor.Offset;
                    for (int i = 0; i < index.Length; i++) element += index[i] * tensor.Stride[i];
                    bytes.AsSpan((int)(element * size), size).CopyTo(result.AsSpan((int)(n * size), size));
                    for (int i = index.Length - 1; i >= 0 && ++index[i] == tensor.Shape[i]; i--) index[i] = 0;
                }
            }
            return HostTensor.Wrap(storage.ElementType, tensor.Shape, result);
        }

        /// <summary>The most elements of <paramref name="size"/> bytes an expanded view materializes: 256 MiB, or 16 times the file if larger.</summary>
        private long MaxExpandedElements(int size) => Math.Max(1L << 28, 16 * fileLength) / size;

        private static bool IsRowMajor(long[] shape, long[] stride)
        {
            long expected = 1;
            for (int i = shape.Length - 1; i >= 0; i--)
            {
                if (shape[i] != 1 && stride[i] != expected) return false;
                expected *= shape[i];
            }
            return true;
        }

        private ZipArchiveEntry Entry(string key) =>
            zip.GetEntry($"{_prefix}data/{key}") ?? throw Bad($"storage record 'data/{key}' is missing");

        private byte[] ReadEntry(ZipArchiveEntry entry)
        {
            if (Bounded(entry).Length > Array.MaxLength) throw Bad($"record '{entry.FullName}' of {entry.Length} bytes is too large to read into memory whole");
            var bytes = new byte[entry.Length];
            using var stream = entry.Open();
            stream.ReadExactly(bytes);
            return bytes;
        }

        /// <summary>
        /// The record, if no larger than the file: PyTorch stores records uncompressed, so a record
        /// larger than the whole file can only be a decompression bomb or a lie.
        /// </summary>
        private ZipArchiveEntry Bounded(ZipArchiveEntry entry) =>
            entry.Length <= fileLength ? entry
                : throw Bad($"record '{entry.FullName}' claims {entry.Length} bytes in a {fileLength}-byte file");

        private PyTorchFileException Bad(string problem) => new($"'{path}': {problem}");
    }

    /// <summary>
    /// Each tensor as a storage record: one per distinct tensor object (keys "0", "1", ... in order of
    /// first appearance), so shared tensors are written once. Returns, per tensor, its record.
    /// </summary>
    public static (List<TensorToWrite> Records, List<TensorToWrite> Storages) AssignStorages<T>(IEnumerable<T> tensors, Func<string, T, TensorToWrite> describe)
        where T : class
    {
        var recordOf = new Dictionary<T, TensorToWrite>(ReferenceEqualityComparer.Instance);
        var records = new List<TensorToWrite>();
        var storages = new List<TensorToWrite>();
        foreach (var tensor in tensors)
        {
            if (!recordOf.TryGetValue(tensor, out var record))
            {
                recordOf[tensor] = record = describe(storages.Count.ToString(CultureInfo.InvariantCulture), tensor);
                storages.Add(record);
            }
            records.Add(record);
        }
        return (records, storages);
    }
}
