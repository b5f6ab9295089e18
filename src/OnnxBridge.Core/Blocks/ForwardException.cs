namespace OnnxBridge.Core.Blocks;

/// <summary>
/// An eager forward that libtorch (or an op's own check) refused — typically shapes or element types that do not fit. Names the block path
/// (<c>0.hidden</c>), the operation and the shapes of its operands instead of libtorch's C++ frames.
/// </summary>
public sealed class ForwardException : OnnxBridgeException
{
    public ForwardException() { }

    public ForwardException(string message) : base(message) { }

    public ForwardException(string message, Exception? inner) : base(message, inner) { }

    internal ForwardException(string op, IReadOnlyList<string> operandShapes, string detail, Exception? inner)
        : base(Compose(null, op, operandShapes, detail), inner) =>
        (Op, OperandShapes, Detail) = (op, operandShapes, detail);

    private ForwardException(ForwardException unplaced, string blockPath)
        : base(Compose(blockPath, unplaced.Op!, unplaced.OperandShapes, unplaced.Detail!), unplaced.InnerException) =>
        (Op, OperandShapes, Detail, BlockPath) = (unplaced.Op, unplaced.OperandShapes, unplaced.Detail, blockPath);

    /// <summary>The state-dict path of the block whose forward failed ("" for the root); null until the block tree is known.</summary>
    public string? BlockPath { get; }

    /// <summary>The operation that failed (the ONNX name of the op, e.g. <c>Gemm</c>).</summary>
    public string? Op { get; }

    /// <summary>The shapes of the operation's operands, in order, e.g. <c>[2, 20]</c>.</summary>
    public IReadOnlyList<string> OperandShapes { get; } = [];

    /// <summary>libtorch's own first line about the problem.</summary>
    public string? Detail { get; }

    /// <summary>The innermost block whose forward was running when the op failed.</summary>
    internal Block? Block { get; set; }

    internal ForwardException At(string blockPath) => new(this, blockPath);

    private static string Compose(string? blockPath, string op, IReadOnlyList<string> shapes, string detail)
    {
        var where = blockPath is null ? "" : $"block '{(blockPath.Length == 0 ? "<root>" : blockPath)}', ";
        return $"{where}op {op}: operands of shape {string.Join(" and ", shapes)} do not fit: {detail}";
    }
}
