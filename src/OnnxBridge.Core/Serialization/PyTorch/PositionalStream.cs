using Microsoft.Win32.SafeHandles;

namespace OnnxBridge.Core.Serialization.PyTorch;

/// <summary>
/// A read-only, seekable view of a file opened once, with a position of its own: it reads with
/// <c>pread</c> (<see cref="RandomAccess.Read(SafeFileHandle, Span{byte}, long)"/>), so several
/// readers — one <see cref="System.IO.Compression.ZipArchive"/> per thread — share the handle, and
/// so the very file, without sharing a position. The length is the file's when it was opened.
/// </summary>
internal sealed class PositionalStream(SafeFileHandle handle, long length) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => true;

    public override bool CanWrite => false;

    public override long Length => length;

    public override long Position
    {
        get => _position;
        set => _position = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "a position cannot be negative");
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (_position >= length) return 0;
        var read = RandomAccess.Read(handle, buffer[..(int)Math.Min(buffer.Length, length - _position)], _position);
        _position += read;
        return read;
    }

    public override long Seek(long offset, SeekOrigin origin) => Position = origin switch
    {
        SeekOrigin.Begin => offset,
        SeekOrigin.Current => _position + offset,
        SeekOrigin.End => length + offset,
        _ => throw new ArgumentOutOfRangeException(nameof(origin), origin, "not a seek origin"),
    };

    public override void Flush() { }

    public override void SetLength(long value) => throw new NotSupportedException("a positional stream is read-only");

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("a positional stream is read-only");
}
