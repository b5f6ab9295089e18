using System.Globalization;
using System.Text.RegularExpressions;
using Google.Protobuf;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Export;

/// <summary>
/// Puts large initializers in one data file beside the model (ONNX external data), streamed from
/// the parameters' memory so an export never holds a second copy of the weights. The file is named
/// after the model and the weights hash (<c>model.onnx.1a2b3c4d5e6f7a8b.data</c>), a plain file name
/// that cannot leave the model's folder; it is written before the model and the model is renamed
/// into place last, so a reader sees either the old pair or the new one. Data files of earlier
/// exports of the same model are removed afterwards; when the model cannot be written (a full disk),
/// the new data file is removed and the earlier pair is left as it was. Offsets are 4 KiB aligned, so readers can map them.
/// </summary>
internal sealed partial class ExternalDataWriter(long threshold)
{
    /// <summary>The most initializer bytes we keep inline: protobuf messages stop at 2 GB.</summary>
    public const long InlineLimit = Onnx.OnnxFiles.MaxInlineBytes;

    private const int Alignment = 4096;
    private readonly List<(TensorProto Proto, Tensor Tensor)> _entries = [];

    /// <summary>
    /// Takes <paramref name="tensor"/> when it has at least the threshold's bytes: returns its
    /// initializer without data, filled in by <see cref="Write"/>. Returns null for a tensor that stays inline.
    /// </summary>
    public TensorProto? TryAdd(string key, Tensor tensor)
    {
        if (tensor.NumberOfElements * tensor.ElementSize < threshold) return null;
        var proto = new TensorProto { Name = key, DataType = (int)DTypes.ToOnnx(tensor.dtype) };
        proto.Dims.AddRange(tensor.shape);
        _entries.Add((proto, tensor));
        return proto;
    }

    /// <summary>
    /// Writes the data file and, on another core at the same time, computes the weights hash (each
    /// initializer as it would be serialized inline, so the hash does not depend on where the weights
    /// live); then names the data file after the hash, writes the model, and removes data files of
    /// earlier exports of this model.
    /// </summary>
    public void Write(string modelPath, ModelProto model)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var modelName = Path.GetFileName(modelPath);
        var tensorOf = new Dictionary<TensorProto, Tensor>(ReferenceEqualityComparer.Instance);
        foreach (var (proto, tensor) in _entries) tensorOf[proto] = tensor;
        var offsets = new Dictionary<TensorProto, long>(ReferenceEqualityComparer.Instance);
        var partial = Path.Combine(folder, modelName + ".data.partial");

        // SHA-256 runs at ~1.4 GB/s here and a write with fsync at 0.3–1 GB/s: in one pass the export
        // cost both (1.9–2.0× a raw write for 400 MB); side by side it costs about the slower one.
        var hashing = Task.Run(() => OnnxExporter.WeightsHash(model.Graph, tensorOf));
        try
        {
            // The partial file is complete and flushed before it is renamed to its final, hash-derived name.
            AtomicFile.Write(partial, stream =>
            {
                long position = 0;
                foreach (var initializer in model.Graph.Initializer)
                {
                    if (!tensorOf.TryGetValue(initializer, out var tensor)) continue;
                    var offset = (position + Alignment - 1) / Alignment * Alignment;
                    if (offset > position) stream.Write(new byte[offset - position]);
                    TensorConvert.WithBytes(tensor, stream.Write);
                    offsets[initializer] = offset;
                    position = offset + tensor.NumberOfElements * tensor.ElementSize;
                }
            });
        }
        finally
        {
            // The hash reads the weights' memory (and its own copies of any not on the CPU): let it finish whatever the write did.
            ((IAsyncResult)hashing).AsyncWaitHandle.WaitOne();
        }
        var weightsHash = hashing.GetAwaiter().GetResult();
        var location = $"{modelName}.{weightsHash[..16]}.data";
        var dataPath = Path.Combine(folder, location);
        // A data file of this name holds these very weights (the name is their hash) and may be in use
        // by the model already there: it must survive a failed write; a new one must not.
        var existed = File.Exists(dataPath);
        File.Move(partial, dataPath, overwrite: true);
        try
        {
            WriteModel(modelPath, model, location, offsets, tensorOf, weightsHash);
        }
        catch
        {
            if (!existed) File.Delete(dataPath);
            throw;
        }

        foreach (var stale in Directory.EnumerateFiles(folder, modelName + ".*.data"))
        {
            var name = Path.GetFileName(stale);
            if (name != location && DataFileName().IsMatch(name[modelName.Length..])) File.Delete(stale);
        }
    }

    private static void WriteModel(string modelPath, ModelProto model, string location, Dictionary<TensorProto, long> offsets,
        Dictionary<TensorProto, Tensor> tensorOf, string weightsHash)
    {
        foreach (var (initializer, offset) in offsets)
        {
            var tensor = tensorOf[initializer];
            initializer.DataLocation = TensorProto.Types.DataLocation.External;
            initializer.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            initializer.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
            initializer.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = (tensor.NumberOfElements * tensor.ElementSize).ToString(CultureInfo.InvariantCulture) });
        }
        model.MetadataProps.Add(new StringStringEntryProto { Key = OnnxExporter.WeightsHashKey, Value = weightsHash });
        AtomicFile.WriteAllBytes(modelPath, model.ToByteArray());
    }

    [GeneratedRegex("^\\.[0-9a-f]{16}\\.data$")]
    private static partial Regex DataFileName();
}
