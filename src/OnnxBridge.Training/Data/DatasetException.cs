namespace OnnxBridge.Training.Data;

/// <summary>A data file (CSV) that cannot be read as a dataset; the message names the file, line and column.</summary>
public sealed class DatasetException : SerializationException
{
    public DatasetException() { }

    public DatasetException(string message) : base(message) { }

    public DatasetException(string message, Exception inner) : base(message, inner) { }
}
