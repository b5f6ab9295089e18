namespace OnnxBridge.Core.Import;

/// <summary>
/// An ONNX model cannot be imported as blocks (ops the op layer does not cover, listed all at
/// once with their nodes), or one of its nodes cannot run as written (an attribute form not
/// supported, an input that must be constant); the message names the node, its op and its opset.
/// </summary>
public sealed class OnnxImportException : OnnxBridgeException
{
    public OnnxImportException(string message) : base(message) { }

    public OnnxImportException(string message, Exception? inner) : base(message, inner) { }
}
