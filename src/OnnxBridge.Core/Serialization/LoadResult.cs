namespace OnnxBridge.Core.Serialization;

/// <summary>What a non-strict load skipped (PyTorch's <c>_IncompatibleKeys</c>).</summary>
public sealed record LoadResult(IReadOnlyList<string> MissingKeys, IReadOnlyList<string> UnexpectedKeys);
