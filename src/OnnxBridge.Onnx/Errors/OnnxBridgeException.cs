namespace OnnxBridge;

/// <summary>
/// The one base of the errors OnnxBridge reports about its input: a network description
/// (BuilderException, ArchitectureException), a forward (ForwardException), an export
/// (ExportException), a file (the <see cref="SerializationException"/>s: ONNX, safetensors,
/// PyTorch, TorchSharp .dat, state dicts, checkpoints, CSV datasets), ONNX Runtime refusing a model
/// or a run (InferenceException, wrapping ONNX Runtime's own error at the session boundary) or an
/// execution provider (ExecutionProviderException). Callers catch this one type for "the input was
/// wrong"; the CLI maps it to exit code 2, and anything unexpected to 3 (a bug).
/// </summary>
public abstract class OnnxBridgeException : Exception
{
    protected OnnxBridgeException() { }

    protected OnnxBridgeException(string message) : base(message) { }

    protected OnnxBridgeException(string message, Exception? inner) : base(message, inner) { }
}
