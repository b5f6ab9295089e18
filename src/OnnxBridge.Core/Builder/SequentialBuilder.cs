using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Builder;

/// <summary>
/// Describes a <see cref="Sequential"/> network layer by layer. Layer kinds add themselves through
/// extension methods (<see cref="LayerExtensions"/>), which check their arguments and record problems
/// instead of throwing, so <see cref="Build"/> reports every problem at once. Single use.
/// </summary>
public sealed class SequentialBuilder
{
    private readonly List<(string Description, Func<Block> Create)> _layers = [];
    private readonly List<string> _errors = [];
    private InputSpec? _input;
    private bool _built;

    internal SequentialBuilder() { }

    /// <summary>Appends a layer made by <paramref name="create"/> when the network is built.</summary>
    /// <param name="description">How the layer is named in error messages, e.g. <c>Linear(256)</c>.</param>
    /// <param name="create">Makes the layer.</param>
    /// <param name="problems">Problems with the layer's arguments, reported by <see cref="Build"/>.</param>
    public SequentialBuilder Add(string description, Func<Block> create, params string[] problems)
    {
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(create);
        ArgumentNullException.ThrowIfNull(problems);
        ThrowIfBuilt();
        var index = _layers.Count.ToString(CultureInfo.InvariantCulture);
        _errors.AddRange(problems.Select(p => $"layer {index} ({description}): {p}"));
        _layers.Add((description, create));
        return this;
    }

    /// <summary>
    /// Appends a layer whose constructor checks its own arguments. It is made once, now — so its
    /// initial weights draw from the random generator in the order the layers are added — and a
    /// refused argument becomes a problem reported by <see cref="Build"/> under <paramref name="name"/>.
    /// </summary>
    public SequentialBuilder AddLayer<T>(string name, Func<T> create) where T : Block
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(create);
        T layer;
        try
        {
            layer = create();
        }
        catch (ArgumentException e)
        {
            return Add(name, () => throw new InvalidOperationException("unreachable: the builder refuses to build with problems"), [e.Message]);
        }
        return Add(layer.ToString()!, () => layer, []);
    }

    /// <summary>Appends an existing block (it may be shared with other networks: tied parameters).</summary>
    public SequentialBuilder Add(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        return Add(block.GetType().Name, () => block);
    }

    /// <summary>
    /// Declares the input; <see cref="Build"/> then materializes every deferred parameter from it
    /// and checks that the shapes fit, without data.
    /// </summary>
    public SequentialBuilder Input(InputSpec input)
    {
        ArgumentNullException.ThrowIfNull(input);
        ThrowIfBuilt();
        _input = input;
        return this;
    }

    /// <summary>Creates the network.</summary>
    /// <exception cref="BuilderException">The description has problems; all of them are listed.</exception>
    public Sequential Build()
    {
        ThrowIfBuilt();
        _built = true;
        var errors = new List<string>(_errors);
        if (_layers.Count == 0) errors.Add("the network has no layers");
        if (errors.Count > 0) throw new BuilderException(errors);

        var network = new Sequential([.. _layers.Select(l => l.Create())]);
        if (_input is not null)
        {
            try
            {
                network.Build(_input);
            }
            catch (Export.ExportException e)
            {
                throw new BuilderException($"input {_input} does not fit the network: {e.Message}", e);
            }
        }
        return network;
    }

    private void ThrowIfBuilt()
    {
        if (_built) throw new InvalidOperationException("this builder has already built its network; start a new one with Net.Sequential()");
    }
}
