namespace OnnxBridge.Cli.Commands;

/// <summary>A command line that does not say what it wants (missing or conflicting options); exit code 2.</summary>
internal sealed class UsageException(string message) : OnnxBridgeException(message);
