using System.Globalization;
using System.Security.Cryptography;
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
/// exports of the same model are removed afterwards. Offsets are 4 KiB aligned, so readers can map them.
/// </summary>
internal sealed partial class ExternalDataWriter(long threshold)
{
    /// <summary>The most initializer bytes we keep inline: protobuf messages stop at 2 GB.</summary>
    public const long InlineLimit = (1L << 31) - (64L << 20);

    private const int Alignment = 4096;
    private readonly List<(TensorProto Proto, Tensor Tensor)> _entries = [];

    /// <summary>
    /// Takes <paramref name="tensor"/> when it has at least the threshold's bytes: returns the
    /// initializer without data (filled in by <see cref="Write"/>) after adding it, serialized as if
    /// inline, to <paramref name="hash"/>. Returns null for a tensor that stays inline.
    /// </summary>
    public TensorProto? TryAdd(string key, Tensor tensor, IncrementalHash hash)
    {
        var bytes = tensor.NumberOfElements * tensor.ElementSize;
        if (bytes < threshold) return null;
        var proto = new TensorProto { Name = key, DataType = (int)DTypes.ToOnnx(tensor.dtype) };
        proto.Dims.AddRange(tensor.shape);
        // Inline, raw_data (field 9) would follow these fields: hash them, then its tag, length and bytes.
        hash.AppendData(proto.ToByteArray());
        var header = new byte[11];
        var stream = new CodedOutputStream(header);
        stream.WriteTag(9, WireFormat.WireType.LengthDelimited);
        stream.WriteLength((int)bytes);
        stream.Flush();
        hash.AppendData(header, 0, (int)stream.Position);
        WithBytes(tensor, span => hash.AppendData(span));
        _entries.Add((proto, tensor));
        return proto;
    }

    /// <summary>Writes the data file and then the model; removes data files of earlier exports of this model.</summary>
    public void Write(string modelPath, ModelProto model)
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var modelName = Path.GetFileName(modelPath);
        var weightsHash = model.MetadataProps.Single(p => p.Key == OnnxExporter.WeightsHashKey).Value;
        var location = $"{modelName}.{weightsHash[..16]}.data";

        long offset = 0;
        var offsets = new List<long>(_entries.Count);
        foreach (var (proto, tensor) in _entries)
        {
            offset = (offset + Alignment - 1) / Alignment * Alignment;
            offsets.Add(offset);
            var length = tensor.NumberOfElements * tensor.ElementSize;
            proto.DataLocation = TensorProto.Types.DataLocation.External;
            proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = offset.ToString(CultureInfo.InvariantCulture) });
            proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = length.ToString(CultureInfo.InvariantCulture) });
            offset += length;
        }

        AtomicFile.Write(Path.Combine(folder, location), stream =>
        {
            long position = 0;
            for (int i = 0; i < _entries.Count; i++)
            {
                var padding = offsets[i] - position;
                if (padding > 0) stream.Write(new byte[padding]);
                WithBytes(_entries[i].Tensor, span => stream.Write(span));
                position = offsets[i] + _entries[i].Tensor.NumberOfElements * _entries[i].Tensor.ElementSize;
            }
        });
        AtomicFile.WriteAllBytes(modelPath, model.ToByteArray());

        foreach (var stale in Directory.EnumerateFiles(folder, modelName + ".*.data"))
        {
            var name = Path.GetFileName(stale);
            if (name != location && DataFileName().IsMatch(name[modelName.Length..])) File.Delete(stale);
        }
    }

    /// <summary>Hands over the tensor's bytes from its own memory (a contiguous CPU copy only when it is not one already).</summary>
    private static void WithBytes(Tensor tensor, Action<ReadOnlySpan<byte>> use)
    {
        using var scope = NewDisposeScope();
        var cpu = tensor.detach().cpu().contiguous();
        use(cpu.bytes);
    }

    [GeneratedRegex("^\\.[0-9a-f]{16}\\.data$")]
    private static partial Regex DataFileName();
}
