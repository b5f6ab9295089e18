namespace OnnxBridge.Core.Serialization;

/// <summary>The file formats tensors and state dicts are saved in.</summary>
public enum TensorFileFormat
{
    /// <summary>safetensors (<c>.safetensors</c>): a JSON header and raw little-endian data.</summary>
    Safetensors,

    /// <summary>PyTorch's <c>torch.save</c> zip format (<c>.pt</c>, <c>.pth</c>, <c>.bin</c>), read without running any pickle code.</summary>
    PyTorch,

    /// <summary>TorchSharp's <c>Module.save</c> format (<c>.dat</c>): entries in order, no sharing, no metadata.</summary>
    TorchSharp,
}

/// <summary>Chooses a <see cref="TensorFileFormat"/> from a file name.</summary>
public static class TensorFileFormats
{
    /// <summary>The format for <paramref name="path"/>'s extension, or <paramref name="explicitFormat"/> when given.</summary>
    /// <exception cref="ArgumentException">The extension is not one we know and no format was given.</exception>
    public static TensorFileFormat Resolve(string path, TensorFileFormat? explicitFormat = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (explicitFormat is { } format) return format;
        return Path.GetExtension(path).ToLowerInvariant() switch
        {
            ".safetensors" => TensorFileFormat.Safetensors,
            ".pt" or ".pth" or ".bin" => TensorFileFormat.PyTorch,
            ".dat" => TensorFileFormat.TorchSharp,
            var other => throw new ArgumentException(
                $"cannot tell the format of '{path}' from its extension '{other}': use .safetensors, .pt, .pth, .bin or .dat, or name the format", nameof(path)),
        };
    }
}
