namespace OnnxBridge;

/// <summary>
/// The one base of every error OnnxBridge reports about its input: a network description, a file,
/// a shape, a model, a request. Each stage has its own subclass (builder, forward, export,
/// serialization, runtime, host), and native errors (libtorch, ONNX Runtime) are wrapped into them at
/// the boundary with our context added. Anything that is not an <see cref="OnnxBridgeException"/>
/// escaping a public API is a bug: the command line reports it as an internal error.
/// </summary>
public abstract class OnnxBridgeException : Exception
{
    protected OnnxBridgeException() { }

    protected OnnxBridgeException(string message) : base(message) { }

    protected OnnxBridgeException(string message, Exception? inner) : base(message, inner) { }
}
