namespace OnnxBridge;

/// <summary>
/// A file that cannot be read or written as asked: malformed, truncated, hostile, over a stated
/// bound, or not fitting what it is loaded into. The message names the file and the problem; a
/// failed load has changed nothing.
/// </summary>
public abstract class SerializationException : OnnxBridgeException
{
    protected SerializationException() { }

    protected SerializationException(string message) : base(message) { }

    protected SerializationException(string message, Exception? inner) : base(message, inner) { }
}
