namespace OnnxBridge;

/// <summary>An ONNX model, tensor or test-case folder that cannot be read: names the file and the problem.</summary>
public sealed class OnnxFileException : SerializationException
{
    public OnnxFileException() { }

    public OnnxFileException(string message) : base(message) { }

    public OnnxFileException(string message, Exception? inner) : base(message, inner) { }
}
