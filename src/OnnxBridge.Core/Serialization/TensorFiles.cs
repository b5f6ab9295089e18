using System.Globalization;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// The chapter's <c>torch.save(x)</c>, <c>torch.save([x, y])</c> and <c>torch.save(mydict)</c>, as
/// safetensors files whose <c>__metadata__</c> records which container was saved, so loading the
/// wrong kind fails clearly. Writes are atomic; loads are bounded (see <see cref="Safetensors"/>).
/// </summary>
public static class TensorFiles
{
    private const string ContainerKey = "onnxbridge.container";

    /// <summary>Saves one tensor.</summary>
    public static void Save(string path, Tensor tensor)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Write(path, "tensor", [("tensor", tensor)]);
    }

    /// <summary>Saves a list of tensors, in order.</summary>
    public static void SaveList(string path, IReadOnlyList<Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, "list", [.. tensors.Select((t, i) => (i.ToString(CultureInfo.InvariantCulture), t))]);
    }

    /// <summary>Saves a string-keyed dictionary of tensors.</summary>
    public static void SaveDict(string path, IReadOnlyDictionary<string, Tensor> tensors)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, "dict", [.. tensors.Select(kv => (kv.Key, kv.Value))]);
    }

    /// <summary>Loads a tensor saved with <see cref="Save"/>.</summary>
    public static Tensor Load(string path) => Read(path, "tensor")[0].Tensor;

    /// <summary>Loads a list saved with <see cref="SaveList"/>.</summary>
    public static IReadOnlyList<Tensor> LoadList(string path) => [.. Read(path, "list").OrderBy(e => int.Parse(e.Name, CultureInfo.InvariantCulture)).Select(e => e.Tensor)];

    /// <summary>Loads a dictionary saved with <see cref="SaveDict"/>, in saved order.</summary>
    public static IReadOnlyDictionary<string, Tensor> LoadDict(string path) => Read(path, "dict").ToDictionary(e => e.Name, e => e.Tensor, StringComparer.Ordinal);

    private static void Write(string path, string container, IReadOnlyList<(string Name, Tensor Tensor)> entries)
    {
        ArgumentNullException.ThrowIfNull(path);
        Safetensors.Write(path, [.. entries.Select(e => (e.Name, TensorConvert.ToHost(e.Tensor)))],
            new Dictionary<string, string> { [ContainerKey] = container, ["producer"] = "OnnxBridge" });
    }

    private static List<(string Name, Tensor Tensor)> Read(string path, string container)
    {
        ArgumentNullException.ThrowIfNull(path);
        var (tensors, metadata) = Safetensors.Read(path);
        var saved = metadata.GetValueOrDefault(ContainerKey, "(not written by TensorFiles)");
        if (saved != container)
            throw new SafetensorsException($"'{path}' holds a {saved}, not a {container}; load it with the matching TensorFiles method");
        // Safetensors orders its buffer by offset, which is our write order.
        return [.. tensors.Select(t => (t.Name, TensorConvert.ToTorch(t.Tensor)))];
    }
}
