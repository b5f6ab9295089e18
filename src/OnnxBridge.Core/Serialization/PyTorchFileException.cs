namespace OnnxBridge.Core.Serialization;

/// <summary>A PyTorch <c>.pt</c>/<c>.pth</c> file that is malformed or asks for more than tensors; names the file and the problem.</summary>
public sealed class PyTorchFileException : SerializationException
{
    public PyTorchFileException() { }

    public PyTorchFileException(string message) : base(message) { }

    public PyTorchFileException(string message, Exception inner) : base(message, inner) { }
}
