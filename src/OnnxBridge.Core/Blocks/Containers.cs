using System.Collections;
using System.Globalization;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// PyTorch's nn.ModuleList: blocks held in order and registered under their index (keys
/// <c>layers.0.weight</c>), for a forward that loops over them. Not itself callable, as in PyTorch.
/// </summary>
public sealed class ModuleList : Block, IReadOnlyList<Block>
{
    private readonly List<Block> _blocks = [];

    public ModuleList(params Block[] blocks) : base(nameof(ModuleList))
    {
        ArgumentNullException.ThrowIfNull(blocks);
        foreach (var block in blocks) Append(block);
    }

    /// <inheritdoc/>
    public override Block this[int index] => index >= 0 && index < _blocks.Count ? _blocks[index]
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"this ModuleList has {_blocks.Count} blocks, so there is no block {index}");

    public int Count => _blocks.Count;

    /// <summary>Appends a block under the next index (PyTorch's <c>append</c>).</summary>
    public ModuleList Append(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        Register(_blocks.Count.ToString(CultureInfo.InvariantCulture), block);
        _blocks.Add(block);
        return this;
    }

    public IEnumerator<Block> GetEnumerator() => _blocks.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A ModuleList holds blocks; the forward of the block that owns it calls them.</summary>
    protected override Value Forward(Value input) =>
        throw new InvalidOperationException("a ModuleList is a container, not a network: call its blocks from the forward of the block that holds it (PyTorch's ModuleList is not callable either)");
}

/// <summary>
/// PyTorch's nn.ModuleDict: blocks held by name, in insertion order, registered under that name (keys
/// <c>heads.score.weight</c>). Not itself callable, as in PyTorch.
/// </summary>
public sealed class ModuleDict : Block, IEnumerable<KeyValuePair<string, Block>>
{
    private readonly List<KeyValuePair<string, Block>> _blocks = [];

    public ModuleDict() : base(nameof(ModuleDict)) { }

    public ModuleDict(IEnumerable<KeyValuePair<string, Block>> blocks) : this()
    {
        ArgumentNullException.ThrowIfNull(blocks);
        foreach (var (name, block) in blocks) Add(name, block);
    }

    public int Count => _blocks.Count;

    public IEnumerable<string> Keys => _blocks.Select(b => b.Key);

    /// <summary>Adds a block under <paramref name="name"/>, which must be new and without '.' (a state-dict separator).</summary>
    public ModuleDict Add(string name, Block block)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(block);
        if (name.Contains('.', StringComparison.Ordinal)) throw new ArgumentException($"a ModuleDict key cannot contain '.': '{name}'", nameof(name));
        if (_blocks.Any(b => b.Key == name)) throw new ArgumentException($"this ModuleDict already has a block named '{name}'", nameof(name));
        Register(name, block);
        _blocks.Add(new(name, block));
        return this;
    }

    public IEnumerator<KeyValuePair<string, Block>> GetEnumerator() => _blocks.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <summary>A ModuleDict holds blocks; the forward of the block that owns it calls them.</summary>
    protected override Value Forward(Value input) =>
        throw new InvalidOperationException("a ModuleDict is a container, not a network: call its blocks from the forward of the block that holds it (PyTorch's ModuleDict is not callable either)");
}
