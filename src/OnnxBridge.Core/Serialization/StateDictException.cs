namespace OnnxBridge.Core.Serialization;

/// <summary>
/// A state dict that does not fit the block it is loaded into. Lists every missing key, every
/// unexpected key and every shape or dtype mismatch in one message; the block is left unchanged.
/// </summary>
public sealed class StateDictException : SerializationException
{
    public StateDictException() { }

    public StateDictException(string message) : base(message) { }

    public StateDictException(string message, Exception inner) : base(message, inner) { }

    internal StateDictException(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
        : base(Compose(source, missing, unexpected, mismatched))
    {
        MissingKeys = missing;
        UnexpectedKeys = unexpected;
        Mismatches = mismatched;
    }

    /// <summary>Keys the block has and the state dict lacks.</summary>
    public IReadOnlyList<string> MissingKeys { get; } = [];

    /// <summary>Keys the state dict has and the block lacks.</summary>
    public IReadOnlyList<string> UnexpectedKeys { get; } = [];

    /// <summary>"key: expected …, found …" for each shape or dtype mismatch.</summary>
    public IReadOnlyList<string> Mismatches { get; } = [];

    private static string Compose(string source, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected, IReadOnlyList<string> mismatched)
    {
        var parts = new List<string>();
        if (missing.Count > 0) parts.Add("missing keys: " + string.Join(", ", missing.Select(k => $"'{k}'")));
        if (unexpected.Count > 0) parts.Add("unexpected keys: " + string.Join(", ", unexpected.Select(k => $"'{k}'")));
        parts.AddRange(mismatched);
        return $"state dict from {source} does not fit the block; nothing was loaded. " + string.Join("; ", parts);
    }
}
