using OnnxBridge.Onnx.Proto;

namespace OnnxBridge.Onnx.Tensors;

/// <summary>
/// Reads tensor data stored outside the model file (<c>data_location = EXTERNAL</c>). The location
/// must be a plain relative path that stays inside the model's folder.
/// </summary>
internal static class ExternalData
{
    public static byte[] Read(TensorProto proto, string? folder)
    {
        var entries = proto.ExternalData.ToDictionary(e => e.Key, e => e.Value, StringComparer.Ordinal);
        if (!entries.TryGetValue("location", out var location) || string.IsNullOrEmpty(location))
            throw new InvalidDataException($"tensor '{proto.Name}' is marked external but has no 'location'");
        if (folder is null)
            throw new InvalidDataException($"tensor '{proto.Name}' is stored in external file '{location}', but no model folder was given to resolve it");

        var root = Path.GetFullPath(folder);
        var path = Path.GetFullPath(Path.Combine(root, location));
        if (Path.IsPathRooted(location) || !path.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new InvalidDataException($"tensor '{proto.Name}': external data location '{location}' leaves the model folder '{root}'");

        long offset = entries.TryGetValue("offset", out var o) ? long.Parse(o, System.Globalization.CultureInfo.InvariantCulture) : 0;
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = entries.TryGetValue("length", out var l) ? long.Parse(l, System.Globalization.CultureInfo.InvariantCulture) : file.Length - offset;
        if (offset < 0 || length < 0 || offset + length > file.Length)
            throw new InvalidDataException($"tensor '{proto.Name}': external range offset {offset}, length {length} exceeds '{location}' ({file.Length} bytes)");
        var bytes = new byte[length];
        file.Position = offset;
        file.ReadExactly(bytes);
        return bytes;
    }
}
