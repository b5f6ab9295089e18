namespace OnnxBridge.Onnx;

/// <summary>
/// An ONNX model, tensor (<c>.pb</c>) or external data file that is malformed, hostile or beyond
/// what OnnxBridge reads (a bound, an element type it does not handle); the message names the file
/// or tensor and the problem.
/// </summary>
public sealed class OnnxFileException : SerializationException
{
    public OnnxFileException() { }

    public OnnxFileException(string message) : base(message) { }

    public OnnxFileException(string message, Exception inner) : base(message, inner) { }
}
