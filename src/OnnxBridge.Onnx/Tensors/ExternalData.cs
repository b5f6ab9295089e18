using System.Globalization;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;

namespace OnnxBridge.Onnx.Tensors;

/// <summary>
/// Reads tensor data stored outside the model file (<c>data_location = EXTERNAL</c>). The rule is
/// ONNX Runtime's: the location is a relative path that stays inside the model's folder, resolves to
/// a regular file (never a FIFO or device, which would block or never end), and reaches it through
/// no symbolic link that leads out of the folder.
/// </summary>
internal static class ExternalData
{
    public static byte[] Read(TensorProto proto, string? folder)
    {
        var entries = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var entry in proto.ExternalData)
        {
            if (!entries.TryAdd(entry.Key, entry.Value))
                throw new OnnxFileException($"tensor '{proto.Name}': external data key '{entry.Key}' is given twice");
        }
        if (!entries.TryGetValue("location", out var location) || string.IsNullOrEmpty(location))
            throw new OnnxFileException($"tensor '{proto.Name}' is marked external but has no 'location'");
        if (folder is null)
            throw new OnnxFileException($"tensor '{proto.Name}' is stored in external file '{location}', but no model folder was given to resolve it");

        var path = ContainedFiles.Resolve(folder, location, $"tensor '{proto.Name}': external data");
        long offset = Number(entries, "offset", proto) ?? 0;
        using var file = ContainedFiles.OpenRegular(path, $"tensor '{proto.Name}': external data");
        long length = Number(entries, "length", proto) ?? file.Length - offset;
        if (offset < 0 || length < 0 || offset > file.Length || length > file.Length - offset)
            throw new OnnxFileException($"tensor '{proto.Name}': external range offset {offset}, length {length} exceeds '{location}' ({file.Length} bytes)");
        if (length > Array.MaxLength)
            throw new OnnxFileException($"tensor '{proto.Name}': external data of {length} bytes is more than one array can hold ({Array.MaxLength})");
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }

    private static long? Number(Dictionary<string, string> entries, string key, TensorProto proto)
    {
        if (!entries.TryGetValue(key, out var text)) return null;
        return long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new OnnxFileException($"tensor '{proto.Name}': external data {key} '{text}' is not a whole number >= 0");
    }
}
