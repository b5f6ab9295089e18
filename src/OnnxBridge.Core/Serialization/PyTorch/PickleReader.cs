using System.Buffers.Binary;
using System.Numerics;
using System.Text;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>
/// A restricted unpickler for PyTorch state dicts and tensor containers, in the spirit of
/// <c>torch.load(weights_only=True)</c>: it implements only the opcodes <c>torch.save</c> emits
/// for tensors, lists and dicts, resolves only the globals that rebuild tensors
/// (<c>collections.OrderedDict</c>, <c>torch._utils._rebuild_tensor_v2</c>, the storage classes)
/// and never executes anything: any other global — <c>os.system</c>, <c>builtins.eval</c> — is an
/// error. Every length is checked against the bytes left before anything is allocated.
/// </summary>
internal sealed class PickleReader
{
    private readonly byte[] _data;
    private readonly string _source;
    private readonly Func<object?[], StorageRef> _persistentLoad;
    private readonly List<object?> _stack = [];
    private readonly Stack<int> _marks = new();
    private readonly Dictionary<long, object?> _memo = [];
    private int _position;

    private PickleReader(byte[] data, string source, Func<object?[], StorageRef> persistentLoad)
    {
        _data = data;
        _source = source;
        _persistentLoad = persistentLoad;
    }

    /// <summary>Unpickles <paramref name="data"/>; <paramref name="persistentLoad"/> turns persistent ids into storages.</summary>
    /// <exception cref="PyTorchFileException">The pickle is malformed or uses something a state dict does not need.</exception>
    public static object? Load(byte[] data, string source, Func<object?[], StorageRef> persistentLoad) =>
        new PickleReader(data, source, persistentLoad).Run();

    private object? Run()
    {
        while (true)
        {
            var op = ReadByte();
            switch (op)
            {
                case 0x80: ReadByte(); break; // PROTO
                case 0x95: ReadBytes(8); break; // FRAME: a length hint
                case (byte)'.': return _stack.Count == 1 ? _stack[0] : throw Bad($"STOP with {_stack.Count} values on the stack");
                case (byte)'(': _marks.Push(_stack.Count); break;
                case (byte)')': Push(Array.Empty<object?>()); break;
                case (byte)'t': Push(PopMark().ToArray()); break;
                case 0x85: Push(new[] { Pop() }); break;
                case 0x86: { var b = Pop(); var a = Pop(); Push(new[] { a, b }); break; }
                case 0x87: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new[] { a, b, c }); break; }
                case (byte)'}': Push(new Dictionary<object, object?>()); break;
                case (byte)']': Push(new List<object?>()); break;
                case (byte)'N': Push(null); break;
                case 0x88: Push(true); break;
                case 0x89: Push(false); break;
                case (byte)'J': Push((long)BinaryPrimitives.ReadInt32LittleEndian(ReadBytes(4))); break;
                case (byte)'K': Push((long)ReadByte()); break;
                case (byte)'M': Push((long)BinaryPrimitives.ReadUInt16LittleEndian(ReadBytes(2))); break;
                case 0x8a: Push(ReadLong(ReadByte())); break; // LONG1
                case (byte)'G': Push(BinaryPrimitives.ReadDoubleBigEndian(ReadBytes(8))); break;
                case (byte)'X': Push(ReadUtf8(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break;
                case 0x8c: Push(ReadUtf8(ReadByte())); break; // SHORT_BINUNICODE
                case 0x8d: Push(ReadUtf8(BinaryPrimitives.ReadUInt64LittleEndian(ReadBytes(8)))); break; // BINUNICODE8
                case (byte)'U': Push(Encoding.Latin1.GetString(ReadBytes(ReadByte()))); break; // SHORT_BINSTRING
                case (byte)'q': _memo[ReadByte()] = Peek(); break;
                case (byte)'r': _memo[BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4))] = Peek(); break;
                case 0x94: _memo[_memo.Count] = Peek(); break; // MEMOIZE
                case (byte)'h': Push(Memo(ReadByte())); break;
                case (byte)'j': Push(Memo(BinaryPrimitives.ReadUInt32LittleEndian(ReadBytes(4)))); break;
                case (byte)'c': Push(Global(ReadLine(), ReadLine())); break;
                case 0x93: { var name = Pop(); var module = Pop(); Push(Global(AsString(module), AsString(name))); break; } // STACK_GLOBAL
                case (byte)'Q': Push(_persistentLoad(Pop() as object?[] ?? throw Bad("a persistent id is not a tuple"))); break;
                case (byte)'R': { var args = Pop() as object?[] ?? throw Bad("REDUCE arguments are not a tuple"); Push(Reduce(Pop(), args)); break; }
                case (byte)'b': Pop(); if (Peek() is not Dictionary<object, object?>) throw Bad("BUILD on something other than a dict"); break; // state (e.g. _metadata) is ignored
                case (byte)'s': { var value = Pop(); var key = Pop(); AsDict(Peek())[Key(key)] = value; break; }
                case (byte)'u': { var items = PopMark(); var dict = AsDict(Peek()); if (items.Count % 2 != 0) throw Bad("SETITEMS with an odd count"); for (int i = 0; i < items.Count; i += 2) dict[Key(items[i])] = items[i + 1]; break; }
                case (byte)'a': { var value = Pop(); AsList(Peek()).Add(value); break; }
                case (byte)'e': { var items = PopMark(); AsList(Peek()).AddRange(items); break; }
                default: throw Bad($"opcode 0x{op:x2} is not allowed in a state dict (only the opcodes torch.save uses for tensors, lists and dicts are)");
            }
        }
    }

    private object Global(string module, string name) => (module, name) switch
    {
        ("collections", "OrderedDict") => new GlobalRef(PickleGlobal.OrderedDict, name),
        ("torch._utils", "_rebuild_tensor_v2") => new GlobalRef(PickleGlobal.RebuildTensor, name),
        ("torch._utils", "_rebuild_parameter") => new GlobalRef(PickleGlobal.RebuildParameter, name),
        ("torch", _) when StorageTypes.FromStorageName(name) is { } type => new GlobalRef(PickleGlobal.Storage, name, type),
        _ => throw Bad($"global '{module}.{name}' is not allowed: a state dict only needs tensors, lists and dicts, and nothing in the file is ever executed"),
    };

    private object Reduce(object? callable, object?[] args)
    {
        if (callable is not GlobalRef global) throw Bad("REDUCE on something that is not an allowed global");
        switch (global.Kind)
        {
            case PickleGlobal.OrderedDict:
                return new Dictionary<object, object?>();
            case PickleGlobal.RebuildTensor:
                if (args.Length < 4 || args[0] is not StorageRef storage) throw Bad("_rebuild_tensor_v2 needs (storage, offset, size, stride, ...)");
                return new TensorRef(storage, AsLong(args[1]), AsLongs(args[2]), AsLongs(args[3]));
            case PickleGlobal.RebuildParameter:
                return args.Length > 0 && args[0] is TensorRef tensor ? tensor : throw Bad("_rebuild_parameter needs a tensor");
            default:
                throw Bad($"'{global.Name}' cannot be called");
        }
    }

    private object? Memo(long index) => _memo.TryGetValue(index, out var value) ? value : throw Bad($"memo entry {index} was never stored");

    private static object Key(object? key) => key ?? throw new PyTorchFileException("a dict key is None");

    private Dictionary<object, object?> AsDict(object? value) => value as Dictionary<object, object?> ?? throw Bad("SETITEM on something that is not a dict");

    private List<object?> AsList(object? value) => value as List<object?> ?? throw Bad("APPEND on something that is not a list");

    private string AsString(object? value) => value as string ?? throw Bad("STACK_GLOBAL names are not strings");

    private long AsLong(object? value) => value is long l ? l : throw Bad($"expected an integer, found {value?.GetType().Name ?? "None"}");

    private long[] AsLongs(object? value) => value is object?[] items ? [.. items.Select(AsLong)] : throw Bad("expected a tuple of integers");

    /// <summary>
    /// torch.save's pickles keep the stack short (pickle batches SETITEMS and APPENDS by 1,000), so
    /// a deeper stack is a file built to nest containers deeply or to allocate.
    /// </summary>
    private const int MaxStack = 10_000;

    private void Push(object? value)
    {
        if (_stack.Count >= MaxStack) throw Bad($"the pickle stack grows beyond {MaxStack:N0} entries");
        _stack.Add(value);
    }

    private object? Pop()
    {
        if (_stack.Count == 0 || (_marks.Count > 0 && _stack.Count <= _marks.Peek())) throw Bad("the pickle pops from an empty stack");
        var value = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return value;
    }

    private object? Peek() => _stack.Count > 0 ? _stack[^1] : throw Bad("the pickle reads from an empty stack");

    private List<object?> PopMark()
    {
        if (_marks.Count == 0) throw Bad("the pickle closes a MARK it never opened");
        var start = _marks.Pop();
        var items = _stack.GetRange(start, _stack.Count - start);
        _stack.RemoveRange(start, _stack.Count - start);
        return items;
    }

    private byte ReadByte() => _position < _data.Length ? _data[_position++] : throw Bad("the pickle ends before STOP");

    private ReadOnlySpan<byte> ReadBytes(ulong count)
    {
        if (count > (ulong)(_data.Length - _position)) throw Bad($"a length of {count} bytes runs past the end of the pickle");
        var span = _data.AsSpan(_position, (int)count);
        _position += (int)count;
        return span;
    }

    private string ReadUtf8(ulong count)
    {
        try
        {
            return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(ReadBytes(count));
        }
        catch (DecoderFallbackException e)
        {
            throw new PyTorchFileException($"{_source}: a pickle string is not valid UTF-8", e);
        }
    }

    private string ReadLine()
    {
        var end = Array.IndexOf(_data, (byte)'\n', _position);
        if (end < 0 || end - _position > 256) throw Bad("a GLOBAL name is unterminated or longer than 256 bytes");
        var line = Encoding.ASCII.GetString(_data, _position, end - _position);
        _position = end + 1;
        return line;
    }

    private long ReadLong(int count)
    {
        if (count > 8) throw Bad($"an integer of {count} bytes does not fit in 64 bits");
        var value = new BigInteger(ReadBytes((ulong)count), isUnsigned: false, isBigEndian: false);
        return (long)value;
    }

    private PyTorchFileException Bad(string problem) => new($"{_source}: {problem} (pickle offset {_position})");
}
