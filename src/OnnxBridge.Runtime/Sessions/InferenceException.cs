namespace OnnxBridge.Runtime.Sessions;

/// <summary>
/// ONNX Runtime refused a model or failed while running it (an invalid graph, an input that does
/// not fit, a run past its time limit): ONNX Runtime's own error, wrapped at the session boundary
/// so callers catch OnnxBridge's types only. The message names the model and keeps ONNX Runtime's words.
/// </summary>
public sealed class InferenceException : OnnxBridgeException
{
    public InferenceException() { }

    public InferenceException(string message) : base(message) { }

    public InferenceException(string message, Exception inner) : base(message, inner) { }
}
