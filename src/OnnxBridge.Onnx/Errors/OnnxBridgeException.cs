namespace OnnxBridge;

/// <summary>
/// The one base of the errors OnnxBridge reports about its input: a network description
/// (BuilderException, ArchitectureException), a forward (ForwardException), an export
/// (ExportException), a file (the <see cref="SerializationException"/>s) or an execution provider
/// (ExecutionProviderException). Callers catch this one type for "the input was wrong"; anything
/// else escaping a public API is a bug. (Wrapping ONNX Runtime's own errors and the CLI's single
/// handler with documented exit codes are still to come.)
/// </summary>
public abstract class OnnxBridgeException : Exception
{
    protected OnnxBridgeException() { }

    protected OnnxBridgeException(string message) : base(message) { }

    protected OnnxBridgeException(string message, Exception? inner) : base(message, inner) { }
}
