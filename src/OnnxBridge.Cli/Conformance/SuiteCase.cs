using OnnxBridge.Core.Blocks;

namespace OnnxBridge.Cli.Conformance;

/// <summary>
/// One case of an ONNX conformance folder as OnnxBridge rebuilds it: the block PyTorch's test built
/// (a layer with the test's constructor arguments, or a small user block for a function), and the
/// state-dict keys the case's initializers load into — or, for a case we do not reproduce, why.
/// </summary>
internal sealed record SuiteCase
{
    private SuiteCase(string name, Func<Block>? build, IReadOnlyList<string>? keys, string? miss) =>
        (Name, Build, Keys, Miss) = (name, build, keys, miss);

    /// <summary>The case folder's name, e.g. <c>test_Conv2d_groups</c>.</summary>
    public string Name { get; }

    /// <summary>Makes the block; null for a miss.</summary>
    public Func<Block>? Build { get; }

    /// <summary>
    /// The keys the initializers load into, in the graph's order (PyTorch's exporter numbered them in
    /// state-dict order, skipping what the graph does not read, e.g. <c>num_batches_tracked</c>); null
    /// means the block's parameters in their order.
    /// </summary>
    public IReadOnlyList<string>? Keys { get; }

    /// <summary>Why the case is not reproduced (out of scope), or null.</summary>
    public string? Miss { get; }

    /// <summary>A case rebuilt from <paramref name="build"/>.</summary>
    public static SuiteCase Of(string name, Func<Block> build, params string[] keys) => new(name, build, keys.Length == 0 ? null : keys, null);

    /// <summary>A case we do not reproduce, with the reason docs/conformance.md gives.</summary>
    public static SuiteCase Missed(string name, string reason) => new(name, null, null, reason);
}
