using System.Text;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// TorchSharp's own state-dict format (<c>Module.save</c>/<c>load</c>, <c>.dat</c>): a LEB128 entry
/// count, then per entry a .NET length-prefixed UTF-8 key and a tensor as LEB128 dtype code
/// (TorchSharp's ScalarType), LEB128 rank, LEB128 dimensions and the raw little-endian data. It has
/// no header to check up front, so the reader checks every count and size against the bytes left.
/// </summary>
public static class TorchSharpDat
{
    /// <summary>Writes entries in order, atomically. Tied entries are written once per key: the format has no sharing.</summary>
    public static void Write(string path, IReadOnlyList<(string Key, HostTensor Tensor)> entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        Write(path, [.. entries.Select(e => TensorToWrite.FromHost(e.Key, e.Tensor))]);
    }

    /// <summary>Writes tensors, each under its name, from wherever their callbacks read them (a state dict: the tensors' own memory).</summary>
    /// <exception cref="InvalidOperationException">A callback wrote another number of bytes than it declared (nothing is left at <paramref name="path"/>).</exception>
    internal static void Write(string path, IReadOnlyList<TensorToWrite> entries)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(entries);
        AtomicFile.Write(path, stream =>
        {
            using var writer = new BinaryWriter(stream, Encoding.UTF8, leaveOpen: true);
            Encode(writer, entries.Count);
            foreach (var tensor in entries)
            {
                writer.Write(tensor.Name);
                Encode(writer, (long)DTypes.ToTorch(tensor.Type));
                Encode(writer, tensor.Shape.Count);
                foreach (var d in tensor.Shape) Encode(writer, d);
                writer.Flush();
                tensor.WriteTo(stream);
            }
        });
    }

    /// <summary>Reads every entry.</summary>
    /// <exception cref="TorchSharpDatException">The file is truncated or malformed.</exception>
    public static IReadOnlyList<(string Key, HostTensor Tensor)> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        var entries = new List<(string, HostTensor)>();
        foreach (var entry in ReadLayout(file, path))
        {
            if (entry.ByteCount > Array.MaxLength) throw Bad(path, $"entry '{entry.Key}' has {entry.ByteCount} bytes; tensors over {Array.MaxLength} bytes are not supported");
            var bytes = new byte[entry.ByteCount];
            file.Position = entry.Offset;
            file.ReadExactly(bytes);
            entries.Add((entry.Key, HostTensor.Wrap(entry.Type, entry.Shape, bytes)));
        }
        return entries;
    }

    /// <summary>One entry as the file lays it out: key, type, shape, and where its bytes are.</summary>
    internal sealed record Entry(string Key, DataType Type, long[] Shape, long Offset, long ByteCount);

    /// <summary>
    /// Every entry's key, type, shape and data offset, the data skipped: each count and size checked
    /// against the bytes left, so a state-dict load can check the block first and then read the
    /// data straight into tensor memory.
    /// </summary>
    /// <exception cref="TorchSharpDatException">The file is truncated or malformed.</exception>
    internal static List<Entry> ReadLayout(FileStream file, string path)
    {
        using var reader = new BinaryReader(file, new UTF8Encoding(false, throwOnInvalidBytes: true), leaveOpen: true);
        try
        {
            var count = Decode(reader, path);
            // Each entry takes at least 4 bytes (key length, dtype, rank, and nothing else for an empty key and scalar).
            if (count > (file.Length - file.Position) / 3) throw Bad(path, $"claims {count} entries in {file.Length} bytes");
            var entries = new List<Entry>((int)count);
            for (long n = 0; n < count; n++)
            {
                var keyLength = PeekStringLength(reader, file);
                if (keyLength > file.Length - file.Position) throw Bad(path, $"entry {n}'s key claims {keyLength} bytes, past the end of the file");
                var key = reader.ReadString();
                var code = Decode(reader, path);
                if (!Enum.IsDefined((ScalarType)code)) throw Bad(path, $"entry '{key}' has unknown dtype code {code}");
                var type = DTypes.ToOnnx((ScalarType)code);
                var rank = Decode(reader, path);
                if (rank > 64) throw Bad(path, $"entry '{key}' claims {rank} dimensions");
                var shape = new long[rank];
                long bytes = ElementTypes.SizeOf(type);
                var left = file.Length - file.Position;
                for (int i = 0; i < rank; i++)
                {
                    shape[i] = Decode(reader, path);
                    if (shape[i] != 0 && bytes > left / shape[i]) throw Bad(path, $"entry '{key}' of shape [{string.Join(", ", shape.Take(i + 1))}...] needs more bytes than the file has left");
                    bytes *= shape[i];
                }
                if (bytes > file.Length - file.Position) throw Bad(path, $"entry '{key}' needs {bytes} bytes, {file.Length - file.Position} are left");
                entries.Add(new Entry(key, type, shape, file.Position, bytes));
                file.Position += bytes;
            }
            if (file.Position != file.Length) throw Bad(path, $"{file.Length - file.Position} bytes follow the last entry");
            return entries;
        }
        catch (Exception e) when (e is EndOfStreamException or DecoderFallbackException or NotSupportedException or InvalidDataException or FormatException or Onnx.OnnxFileException)
        {
            throw Bad(path, e.Message, e);
        }
    }

    private static void Encode(BinaryWriter writer, long value)
    {
        var v = (ulong)value;
        while (v >= 0x80)
        {
            writer.Write((byte)(v | 0x80));
            v >>= 7;
        }
        writer.Write((byte)v);
    }

    private static long Decode(BinaryReader reader, string path)
    {
        ulong value = 0;
        for (int shift = 0; shift < 64; shift += 7)
        {
            var b = reader.ReadByte();
            value |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
                return value <= long.MaxValue ? (long)value : throw Bad(path, $"a count of {value} is out of range");
        }
        throw Bad(path, "a LEB128 number runs over 10 bytes");
    }

    /// <summary>The byte length of the .NET length-prefixed string at the current position, without consuming it.</summary>
    private static long PeekStringLength(BinaryReader reader, FileStream file)
    {
        var start = file.Position;
        var length = reader.Read7BitEncodedInt();
        file.Position = start;
        return length < 0 ? long.MaxValue : length;
    }

    private static TorchSharpDatException Bad(string path, string problem, Exception? inner = null) =>
        inner is null ? new($"'{path}' is not a valid TorchSharp .dat file: {problem}") : new($"'{path}' is not a valid TorchSharp .dat file: {problem}", inner);
}
