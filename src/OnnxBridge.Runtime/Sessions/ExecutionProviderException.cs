namespace OnnxBridge.Runtime.Sessions;

/// <summary>The requested execution provider cannot be used here; the message says what is missing.</summary>
public sealed class ExecutionProviderException : OnnxBridgeException
{
    public ExecutionProviderException() { }

    public ExecutionProviderException(string message) : base(message) { }

    public ExecutionProviderException(string message, Exception inner) : base(message, inner) { }
}
