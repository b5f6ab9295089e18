namespace OnnxBridge.Core.Export;

/// <summary>
/// An error while recording a block's forward as an ONNX graph: an unsupported operation, a shape
/// that does not fit, data read inside forward. Names the block path (e.g. <c>0.block 1</c>) and,
/// where one is involved, the ONNX operator.
/// </summary>
public sealed class ExportException : OnnxBridgeException
{
    public ExportException() { }

    public ExportException(string message) : base(message) { }

    public ExportException(string message, Exception inner) : base(message, inner) { }

    internal ExportException(string message, string? blockPath, string? op) : base(Compose(message, blockPath, op))
    {
        BlockPath = blockPath;
        Op = op;
    }

    /// <summary>The state-dict path of the block whose forward failed; empty for the root block.</summary>
    public string? BlockPath { get; }

    /// <summary>The ONNX operator being recorded, if any.</summary>
    public string? Op { get; }

    private static string Compose(string message, string? blockPath, string? op)
    {
        var where = blockPath is null ? "" : $"block '{(blockPath.Length == 0 ? "<root>" : blockPath)}'";
        if (op is not null) where += (where.Length > 0 ? ", " : "") + $"op {op}";
        return where.Length == 0 ? message : $"{where}: {message}";
    }
}
