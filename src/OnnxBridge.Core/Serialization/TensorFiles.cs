using System.Globalization;
using OnnxBridge.Core.Serialization.PyTorch;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Serialization;

/// <summary>
/// The chapter's <c>torch.save(x)</c>, <c>torch.save([x, y])</c> and <c>torch.save(mydict)</c> in
/// safetensors (the metadata records which container was saved) or PyTorch's own format (the
/// pickle's root is the tensor, list or dict, exactly as <c>torch.save</c> writes it). The format
/// comes from the extension unless given. Writes are atomic; loads are bounded and run no code;
/// loading the wrong kind of container fails clearly.
/// </summary>
public static class TensorFiles
{
    private const string ContainerKey = "onnxbridge.container";

    /// <summary>Saves one tensor.</summary>
    public static void Save(string path, Tensor tensor, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(tensor);
        Write(path, format, "tensor", [("tensor", TensorConvert.ToHost(tensor))]);
    }

    /// <summary>Saves a list of tensors, in order.</summary>
    public static void SaveList(string path, IReadOnlyList<Tensor> tensors, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, format, "list", [.. tensors.Select((t, i) => (i.ToString(CultureInfo.InvariantCulture), TensorConvert.ToHost(t)))]);
    }

    /// <summary>Saves a string-keyed dictionary of tensors, in its enumeration order.</summary>
    public static void SaveDict(string path, IReadOnlyDictionary<string, Tensor> tensors, TensorFileFormat? format = null)
    {
        ArgumentNullException.ThrowIfNull(tensors);
        Write(path, format, "dict", [.. tensors.Select(kv => (kv.Key, TensorConvert.ToHost(kv.Value)))]);
    }

    /// <summary>Loads a tensor saved with <see cref="Save"/> (or <c>torch.save(x)</c>).</summary>
    public static Tensor Load(string path, TensorFileFormat? format = null) => Read(path, format, "tensor")[0].Tensor;

    /// <summary>Loads a list saved with <see cref="SaveList"/> (or <c>torch.save([x, y])</c>).</summary>
    public static IReadOnlyList<Tensor> LoadList(string path, TensorFileFormat? format = null) => [.. Read(path, format, "list").Select(e => e.Tensor)];

    /// <summary>Loads a dictionary saved with <see cref="SaveDict"/> (or <c>torch.save(mydict)</c>), in saved order.</summary>
    public static IReadOnlyDictionary<string, Tensor> LoadDict(string path, TensorFileFormat? format = null) =>
        Read(path, format, "dict").ToDictionary(e => e.Name, e => e.Tensor, StringComparer.Ordinal);

    private static void Write(string path, TensorFileFormat? format, string container, IReadOnlyList<(string Name, HostTensor Tensor)> entries)
    {
        ArgumentNullException.ThrowIfNull(path);
        var resolved = TensorFileFormats.Resolve(path, format);
        if (resolved == TensorFileFormat.TorchSharp)
        {
            // The .dat format records no container kind: the keys carry it ("tensor", "0".."n-1", or the dict's).
            TorchSharpDat.Write(path, entries);
            return;
        }
        if (resolved == TensorFileFormat.Safetensors)
        {
            Safetensors.Write(path, entries, new Dictionary<string, string> { [ContainerKey] = container, ["producer"] = "OnnxBridge" });
            return;
        }
        var (records, storages) = PyTorchFiles.AssignStorages(entries.Select(e => e.Tensor), TensorToWrite.FromHost);
        PyTorchFiles.Write(path, pickle =>
        {
            if (container == "tensor") pickle.Tensor(records[0], records[0].Name);
            else if (container == "list") pickle.List([.. records.Select(r => (r, r.Name))]);
            else pickle.OrderedDict([.. entries.Select((e, i) => (e.Name, records[i], records[i].Name))]);
        }, storages);
    }

    private static List<(string Name, Tensor Tensor)> Read(string path, TensorFileFormat? format, string container)
    {
        ArgumentNullException.ThrowIfNull(path);
        var resolved = TensorFileFormats.Resolve(path, format);
        if (resolved == TensorFileFormat.TorchSharp)
        {
            var entries = TorchSharpDat.Read(path);
            var keys = entries.Select(e => e.Key).ToList();
            var fits = container switch
            {
                "tensor" => keys is ["tensor"],
                "list" => keys.SequenceEqual(Enumerable.Range(0, keys.Count).Select(i => i.ToString(CultureInfo.InvariantCulture))),
                _ => true,
            };
            if (!fits) throw new TorchSharpDatException($"'{path}' holds entries {string.Join(", ", keys.Take(5).Select(k => $"'{k}'"))}, not a {container}");
            return [.. entries.Select(e => (e.Key, TensorConvert.ToTorch(e.Tensor)))];
        }
        if (resolved == TensorFileFormat.Safetensors)
        {
            var (tensors, metadata) = Safetensors.Read(path);
            var saved = metadata.GetValueOrDefault(ContainerKey, "(not written by TensorFiles)");
            if (saved != container)
                throw new SafetensorsException($"'{path}' holds a {saved}, not a {container}; load it with the matching TensorFiles method");
            // The data buffer is ordered by offset, which is our write order.
            return [.. tensors.Select(t => (t.Name, TensorConvert.ToTorch(t.Tensor)))];
        }
        var root = PyTorchFiles.Read(path);
        IEnumerable<(string, object?)> items = root switch
        {
            HostTensor t when container == "tensor" => [("tensor", t)],
            List<object?> list when container == "list" => list.Select((v, i) => (i.ToString(CultureInfo.InvariantCulture), v)),
            List<(string, object?)> dict when container == "dict" => dict,
            _ => throw new PyTorchFileException($"'{path}' holds a {Describe(root)}, not a {container}; load it with the matching TensorFiles method"),
        };
        return [.. items.Select(i => (i.Item1, i.Item2 is HostTensor t ? TensorConvert.ToTorch(t) : throw new PyTorchFileException($"'{path}': entry '{i.Item1}' is a {Describe(i.Item2)}, not a tensor")))];
    }

    private static string Describe(object? value) => value switch
    {
        HostTensor => "tensor",
        List<object?> => "list",
        List<(string, object?)> => "dict",
        _ => value?.GetType().Name ?? "None",
    };
}
