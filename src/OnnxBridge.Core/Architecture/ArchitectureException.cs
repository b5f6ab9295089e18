namespace OnnxBridge.Core.Architecture;

/// <summary>An architecture description that cannot be written or rebuilt; names the block path and the problem.</summary>
public sealed class ArchitectureException : OnnxBridgeException
{
    public ArchitectureException() { }

    public ArchitectureException(string message) : base(message) { }

    public ArchitectureException(string message, Exception inner) : base(message, inner) { }
}
