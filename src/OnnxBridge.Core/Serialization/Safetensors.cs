using System.Buffers.Binary;
using System.Text;
using System.Text.Json;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// Our reader and writer of the safetensors format: an 8-byte little-endian header length N, an
/// N-byte UTF-8 JSON header mapping each name to <c>dtype</c>, <c>shape</c> and
/// <c>data_offsets</c> [begin, end) into the data buffer that follows (plus an optional
/// <c>__metadata__</c> string map), then the buffer, with no holes. The reader is bounded: it
/// checks every size against the file before allocating, so a hostile file cannot exhaust memory.
/// </summary>
public static class Safetensors
{
    /// <summary>Headers larger than this are refused (the reference implementation's limit).</summary>
    public const int MaxHeaderBytes = 100_000_000;

    private const string MetadataKey = "__metadata__";

    /// <summary>Writes tensors (in the given order) and optional metadata to <paramref name="path"/> atomically.</summary>
    public static void Write(string path, IReadOnlyList<(string Name, HostTensor Tensor)> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, [.. tensors.Select(t => TensorToWrite.FromHost(t.Name, t.Tensor))], metadata);
    }

    /// <summary>
    /// Writes tensors whose bytes come from wherever their callbacks read them — straight from a
    /// TorchSharp tensor's memory when saving a state dict, so no host copy of the weights is made.
    /// </summary>
    /// <exception cref="InvalidOperationException">A callback wrote another number of bytes than it declared (nothing is left at <paramref name="path"/>).</exception>
    internal static void Write(string path, IReadOnlyList<TensorToWrite> tensors, IReadOnlyDictionary<string, string>? metadata = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(tensors);
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (name, _, _, _, _) in tensors)
        {
            if (name == MetadataKey || !names.Add(name))
                throw new ArgumentException($"tensor name '{name}' is duplicated or reserved", nameof(tensors));
        }

        var header = new MemoryStream();
        using (var json = new Utf8JsonWriter(header))
        {
            json.WriteStartObject();
            if (metadata is { Count: > 0 })
            {
                json.WriteStartObject(MetadataKey);
                foreach (var (key, value) in metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }
            long offset = 0;
            foreach (var tensor in tensors)
            {
                json.WriteStartObject(tensor.Name);
                json.WriteString("dtype", DTypeName(tensor.Type));
                json.WriteStartArray("shape");
                foreach (var d in tensor.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                offset += tensor.ByteCount;
                json.WriteNumberValue(offset);
                json.WriteEndArray();
                json.WriteEndObject();
            }
            json.WriteEndObject();
        }
        // Pad the header with spaces to a multiple of 8 so the buffer is aligned, as the reference writer does.
        while (header.Length % 8 != 0) header.WriteByte((byte)' ');

        AtomicFile.Write(path, stream =>
        {
            Span<byte> length = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
            stream.Write(length);
            header.Position = 0;
            header.CopyTo(stream);
            foreach (var tensor in tensors) tensor.WriteTo(stream);
        });
    }

    /// <summary>Reads every tensor, in data-buffer order, and the metadata.</summary>
    /// <exception cref="SafetensorsException">The file is malformed; the message names the file and the problem.</exception>
    public static (IReadOnlyList<(string Name, HostTensor Tensor)> Tensors, IReadOnlyDictionary<string, string> Metadata) Read(string path)
    {
        using var file = OpenRead(path);
        var layout = ReadLayout(file, path);
        var tensors = new List<(string, HostTensor)>(layout.Entries.Count);
        foreach (var entry in layout.Entries)
        {
            if (entry.End - entry.Begin > Array.MaxLength)
                throw Bad(path, $"tensor '{entry.Name}' has {entry.End - entry.Begin} bytes; host tensors over {Array.MaxLength} bytes are not supported");
            var bytes = new byte[entry.End - entry.Begin];
            file.Position = layout.BufferStart + entry.Begin;
            file.ReadExactly(bytes);
            tensors.Add((entry.Name, HostTensor.Wrap(entry.Type, entry.Shape, bytes)));
        }
        return (tensors, layout.Metadata);
    }

    /// <summary>Opens a file for <see cref="ReadLayout"/>, unbuffered: tensor reads go straight into their destination.</summary>
    internal static FileStream OpenRead(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 0);
    }

    /// <summary>One tensor of a file: its header fields and its bytes' [begin, end) in the data buffer.</summary>
    internal sealed record Entry(string Name, DataType Type, long[] Shape, long Begin, long End);

    /// <summary>A file's header, checked against the file: its tensors in data-buffer order, covering the buffer with no holes or overlaps.</summary>
    internal sealed record Layout(IReadOnlyList<Entry> Entries, IReadOnlyDictionary<string, string> Metadata, long BufferStart);

    /// <summary>
    /// Reads and checks the header without reading any tensor, so that a caller can check the
    /// tensors' names, dtypes and shapes before it reads their bytes wherever it wants them.
    /// </summary>
    /// <exception cref="SafetensorsException">The file is malformed; the message names the file and the problem.</exception>
    internal static Layout ReadLayout(FileStream file, string path)
    {
        var fileLength = file.Length;
        if (fileLength < 8) throw Bad(path, $"the file has {fileLength} bytes, fewer than the 8-byte header length");

        Span<byte> prefix = stackalloc byte[8];
        file.Position = 0;
        file.ReadExactly(prefix);
        var headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > MaxHeaderBytes) throw Bad(path, $"header length {headerLength} exceeds the {MaxHeaderBytes}-byte limit");
        if (headerLength > (ulong)(fileLength - 8)) throw Bad(path, $"header length {headerLength} exceeds the file ({fileLength} bytes)");

        var headerBytes = new byte[headerLength];
        file.ReadExactly(headerBytes);
        var entries = ParseHeader(path, headerBytes, out var metadata);

        var bufferStart = 8 + (long)headerLength;
        var bufferLength = fileLength - bufferStart;
        long expectedBegin = 0;
        var ordered = entries.OrderBy(e => e.Begin).ToList();
        foreach (var entry in ordered)
        {
            if (entry.Begin != expectedBegin)
                throw Bad(path, entry.Begin < expectedBegin
                    ? $"tensor '{entry.Name}' overlaps the previous one (offset {entry.Begin} < {expectedBegin})"
                    : $"a hole of {entry.Begin - expectedBegin} bytes precedes tensor '{entry.Name}'");
            if (entry.End > bufferLength)
                throw Bad(path, $"tensor '{entry.Name}' ends at {entry.End}, past the data buffer ({bufferLength} bytes)");
            expectedBegin = entry.End;
        }
        if (expectedBegin != bufferLength)
            throw Bad(path, $"{bufferLength - expectedBegin} bytes after the last tensor are not described by the header");
        return new Layout(ordered, metadata, bufferStart);
    }


    private static List<Entry> ParseHeader(string path, byte[] header, out IReadOnlyDictionary<string, string> metadata)
    {
        JsonDocument document;
        try
        {
            var text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(header);
            document = JsonDocument.Parse(text, new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (Exception e) when (e is DecoderFallbackException or JsonException)
        {
            throw Bad(path, $"the header is not valid UTF-8 JSON: {e.Message}", e);
        }

        try
        {
            return ParseEntries(path, document, out metadata);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json defers some checks (e.g. lone UTF-16 surrogates in names) to when a string is read.
            throw Bad(path, $"the header holds text that is not valid: {e.Message}", e);
        }
        finally
        {
            document.Dispose();
        }
    }

    private static List<Entry> ParseEntries(string path, JsonDocument document, out IReadOnlyDictionary<string, string> metadata)
    {
        if (document.RootElement.ValueKind != JsonValueKind.Object) throw Bad(path, "the header is not a JSON object");
        var meta = new Dictionary<string, string>(StringComparer.Ordinal);
        var entries = new List<Entry>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var property in document.RootElement.EnumerateObject())
        {
            if (!seen.Add(property.Name)) throw Bad(path, $"name '{property.Name}' appears twice in the header");
            if (property.Name == MetadataKey)
            {
                if (property.Value.ValueKind != JsonValueKind.Object) throw Bad(path, "__metadata__ is not an object");
                foreach (var m in property.Value.EnumerateObject())
                {
                    meta[m.Name] = m.Value.ValueKind == JsonValueKind.String
                        ? m.Value.GetString()!
                        : throw Bad(path, $"__metadata__ value '{m.Name}' is not a string");
                }
                continue;
            }
            entries.Add(ParseEntry(path, property));
        }
        metadata = meta;
        return entries;
    }

    private static Entry ParseEntry(string path, JsonProperty property)
    {
        var name = property.Name;
        var value = property.Value;
        if (value.ValueKind != JsonValueKind.Object) throw Bad(path, $"tensor '{name}' is not described by an object");
        if (!value.TryGetProperty("dtype", out var dtype) || dtype.ValueKind != JsonValueKind.String)
            throw Bad(path, $"tensor '{name}' has no dtype");
        var type = ParseDType(dtype.GetString()!) ?? throw Bad(path, $"tensor '{name}' has unsupported dtype '{dtype.GetString()}'");
        var shape = ReadLongs(path, name, value, "shape");
        var offsets = ReadLongs(path, name, value, "data_offsets");
        if (offsets.Length != 2 || offsets[0] < 0 || offsets[1] < offsets[0])
            throw Bad(path, $"tensor '{name}' has invalid data_offsets [{string.Join(", ", offsets)}]");
        long expected = ElementTypes.SizeOf(type);
        foreach (var d in shape)
        {
            if (d < 0) throw Bad(path, $"tensor '{name}' has negative dimension {d}");
            // Any tensor larger than the offsets allow is already wrong: stop before overflowing.
            if (d != 0 && expected > (offsets[1] - offsets[0]) / d)
                throw Bad(path, $"tensor '{name}' of shape {HostTensor.FormatShape(shape)} does not fit its {offsets[1] - offsets[0]} bytes");
            expected *= d;
        }
        if (expected != offsets[1] - offsets[0])
            throw Bad(path, $"tensor '{name}' {dtype.GetString()}{HostTensor.FormatShape(shape)} needs {expected} bytes but data_offsets span {offsets[1] - offsets[0]}");
        return new Entry(name, type, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadLongs(string path, string name, JsonElement value, string field)
    {
        if (!value.TryGetProperty(field, out var array) || array.ValueKind != JsonValueKind.Array)
            throw Bad(path, $"tensor '{name}' has no {field} array");
        if (array.GetArrayLength() > 64) throw Bad(path, $"tensor '{name}' has {array.GetArrayLength()} entries in {field}");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out var v)
            ? v
            : throw Bad(path, $"tensor '{name}': {field} holds '{e}', not an integer")).ToArray();
    }

    private static string DTypeName(DataType type) => type switch
    {
        DataType.Float => "F32",
        DataType.Double => "F64",
        DataType.Float16 => "F16",
        DataType.Bfloat16 => "BF16",
        DataType.Int64 => "I64",
        DataType.Int32 => "I32",
        DataType.Int16 => "I16",
        DataType.Int8 => "I8",
        DataType.Uint8 => "U8",
        DataType.Bool => "BOOL",
        _ => throw new NotSupportedException($"safetensors cannot hold {ElementTypes.Name(type)} tensors"),
    };

    private static DataType? ParseDType(string name) => name switch
    {
        "F32" => DataType.Float,
        "F64" => DataType.Double,
        "F16" => DataType.Float16,
        "BF16" => DataType.Bfloat16,
        "I64" => DataType.Int64,
        "I32" => DataType.Int32,
        "I16" => DataType.Int16,
        "I8" => DataType.Int8,
        "U8" => DataType.Uint8,
        "BOOL" => DataType.Bool,
        _ => null,
    };

    private static SafetensorsException Bad(string path, string problem, Exception? inner = null) =>
        inner is null ? new($"'{path}' is not a valid safetensors file: {problem}") : new($"'{path}' is not a valid safetensors file: {problem}", inner);
}
