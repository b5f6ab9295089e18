using System.Buffers.Binary;
using System.Text;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>
/// Writes the pickle <c>torch.save</c> writes for tensors, lists and (ordered) dicts of tensors,
/// protocol 2, using only what <c>torch.load(weights_only=True)</c> accepts. Tensors refer to their
/// storage by key; the caller writes each storage once as the archive record <c>data/KEY</c>.
/// </summary>
internal sealed class PickleWriter
{
    private readonly MemoryStream _out = new();

    public PickleWriter() => _out.Write([0x80, 2]); // PROTO 2

    /// <summary>An OrderedDict of string keys to tensors.</summary>
    public void OrderedDict(IReadOnlyList<(string Key, TensorToWrite Tensor, string StorageKey)> entries)
    {
        Global("collections", "OrderedDict");
        Op(')'); Op('R');
        Op('(');
        foreach (var (key, tensor, storage) in entries)
        {
            String(key);
            Tensor(tensor, storage);
        }
        Op('u');
    }

    /// <summary>A list of tensors.</summary>
    public void List(IReadOnlyList<(TensorToWrite Tensor, string StorageKey)> items)
    {
        Op(']');
        Op('(');
        foreach (var (tensor, storage) in items) Tensor(tensor, storage);
        Op('e');
    }

    /// <summary>A tensor: <c>_rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())</c>, row-major.</summary>
    public void Tensor(TensorToWrite tensor, string storageKey)
    {
        Global("torch._utils", "_rebuild_tensor_v2");
        Op('(');
        Op('('); // persistent id: ('storage', torch.XStorage, key, 'cpu', numel)
        String("storage");
        Global("torch", StorageTypes.StorageName(tensor.Type));
        String(storageKey);
        String("cpu");
        Int(tensor.Shape.Aggregate(1L, (count, size) => count * size));
        Op('t');
        Op('Q');
        Int(0);
        Tuple(tensor.Shape);
        Tuple(RowMajorStrides(tensor.Shape));
        Op((char)0x89); // False: requires_grad
        Global("collections", "OrderedDict");
        Op(')'); Op('R');
        Op('t');
        Op('R');
    }

    /// <summary>Ends the pickle and returns its bytes.</summary>
    public byte[] Finish()
    {
        Op('.');
        return _out.ToArray();
    }

    private static long[] RowMajorStrides(IReadOnlyList<long> shape)
    {
        var strides = new long[shape.Count];
        long stride = 1;
        for (int i = shape.Count - 1; i >= 0; i--)
        {
            strides[i] = stride;
            stride *= Math.Max(shape[i], 1);
        }
        return strides;
    }

    private void Tuple(IReadOnlyList<long> values)
    {
        if (values.Count == 0) { Op(')'); return; }
        Op('(');
        foreach (var v in values) Int(v);
        Op('t');
    }

    private void Int(long value)
    {
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            Op('J');
            Span<byte> four = stackalloc byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(four, (int)value);
            _out.Write(four);
            return;
        }
        Op((char)0x8a); // LONG1, 8 bytes little-endian two's complement
        _out.WriteByte(8);
        Span<byte> eight = stackalloc byte[8];
        BinaryPrimitives.WriteInt64LittleEndian(eight, value);
        _out.Write(eight);
    }

    private void String(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        Op('X');
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(length, (uint)bytes.Length);
        _out.Write(length);
        _out.Write(bytes);
    }

    private void Global(string module, string name)
    {
        Op('c');
        _out.Write(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));
    }

    private void Op(char op) => _out.WriteByte((byte)op);
}
