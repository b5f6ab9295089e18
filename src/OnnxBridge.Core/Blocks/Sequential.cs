using System.Collections;
using System.Globalization;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// Runs its layers in order, each on the previous one's output. Layers are registered under their
/// index, so state-dict keys read <c>0.weight</c>, <c>2.bias</c>, as in PyTorch's nn.Sequential.
/// </summary>
public sealed class Sequential : Block, IReadOnlyList<Block>
{
    private readonly List<Block> _layers = [];

    /// <summary>Creates a Sequential of <paramref name="layers"/>.</summary>
    public Sequential(params Block[] layers) : base(nameof(Sequential))
    {
        ArgumentNullException.ThrowIfNull(layers);
        foreach (var layer in layers) Append(layer);
    }

    /// <summary>The layer at <paramref name="index"/> (PyTorch's <c>net[2]</c>; a tied layer at each of its positions).</summary>
    public override Block this[int index] => index >= 0 && index < _layers.Count ? _layers[index]
        : throw new ArgumentOutOfRangeException(nameof(index), index, $"this Sequential has {_layers.Count} layers, so there is no layer {index}");

    /// <summary>The number of layers.</summary>
    public int Count => _layers.Count;

    /// <summary>Appends a layer under the next index.</summary>
    public Sequential Append(Block layer) => Append(_layers.Count.ToString(CultureInfo.InvariantCulture), layer);

    /// <summary>Appends a layer under a name of your choice (PyTorch's <c>add_module(f"block {i}", ...)</c>).</summary>
    public Sequential Append(string name, Block layer)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(layer);
        if (named_children().Any(c => c.name == name))
            throw new ArgumentException($"this Sequential already has a child named '{name}'", nameof(name));
        Register(name, layer);
        _layers.Add(layer);
        return this;
    }

    /// <summary>The layer at <paramref name="index"/> as <typeparamref name="T"/>, e.g. <c>net.Layer&lt;Linear&gt;(2).Bias</c> (or untyped: <c>net[2].Param("bias")</c>).</summary>
    public T Layer<T>(int index) where T : Block =>
        _layers[index] as T ?? throw new InvalidCastException($"layer {index} is a {_layers[index].GetType().Name}, not a {typeof(T).Name}");

    /// <inheritdoc/>
    public IEnumerator<Block> GetEnumerator() => _layers.GetEnumerator();

    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        var x = input;
        foreach (var layer in _layers) x = layer.Call(x);
        return x;
    }
}
