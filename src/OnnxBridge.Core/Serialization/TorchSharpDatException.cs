namespace OnnxBridge.Core.Serialization;

/// <summary>A TorchSharp <c>.dat</c> file that is malformed or truncated; names the file and the problem.</summary>
public sealed class TorchSharpDatException : SerializationException
{
    public TorchSharpDatException() { }

    public TorchSharpDatException(string message) : base(message) { }

    public TorchSharpDatException(string message, Exception inner) : base(message, inner) { }
}
