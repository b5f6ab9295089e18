namespace OnnxBridge.Core.Serialization;

/// <summary>A safetensors file that is malformed or does not fit what was asked of it; names the file.</summary>
public sealed class SafetensorsException : SerializationException
{
    public SafetensorsException() { }

    public SafetensorsException(string message) : base(message) { }

    public SafetensorsException(string message, Exception inner) : base(message, inner) { }
}
