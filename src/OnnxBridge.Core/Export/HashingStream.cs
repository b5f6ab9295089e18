using System.Security.Cryptography;

namespace OnnxBridge.Core.Export;

/// <summary>
/// A write-only stream that feeds everything written to it into a hash, so a protobuf message can
/// be hashed as it serializes (<c>message.WriteTo(stream)</c>) without a byte array of it.
/// </summary>
internal sealed class HashingStream(IncrementalHash hash) : Stream
{
    private long _length;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => _length;
    public override long Position { get => _length; set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        hash.AppendData(buffer);
        _length += buffer.Length;
    }

    public override void Flush() { }
    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
