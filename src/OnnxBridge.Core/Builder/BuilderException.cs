namespace OnnxBridge.Core.Builder;

/// <summary>Everything wrong with a network description, reported together when it is built.</summary>
public sealed class BuilderException : OnnxBridgeException
{
    public BuilderException() : this([]) { }

    public BuilderException(string message) : this([message]) { }

    public BuilderException(string message, Exception inner) : base(message, inner) => Errors = [message];

    public BuilderException(IReadOnlyList<string> errors)
        : base(errors.Count == 1 ? errors[0] : $"{errors.Count} problems in the network description:" + string.Concat(errors.Select(e => Environment.NewLine + "  - " + e))) =>
        Errors = errors;

    /// <summary>Each problem found, in layer order.</summary>
    public IReadOnlyList<string> Errors { get; }
}
