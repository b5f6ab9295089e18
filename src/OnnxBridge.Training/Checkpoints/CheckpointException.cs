namespace OnnxBridge.Training.Checkpoints;

/// <summary>A checkpoint could not be read or does not fit the model and optimizer; the message names the file and the problem.</summary>
public sealed class CheckpointException : SerializationException
{
    public CheckpointException() { }

    public CheckpointException(string message) : base(message) { }

    public CheckpointException(string message, Exception inner) : base(message, inner) { }
}
