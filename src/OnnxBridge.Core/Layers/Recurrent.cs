using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What PyTorch's <c>nn.LSTM</c>, <c>nn.GRU</c> and <c>nn.RNN</c> share: the arguments
/// (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional), the parameter
/// names (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, <c>_reverse</c>
/// for the second direction), the initialization (every parameter from U(−1/√H, 1/√H)) and so the
/// state-dict keys. The forward starts from zero states (the <see cref="Ops"/> functions take given
/// ones); the output is [seq, batch, directions·H] ([batch, seq, ...] when batch_first) and the final
/// states [layers·directions, batch, H]. Exports are ONNX LSTM/GRU/RNN nodes with dynamic batch and
/// sequence dimensions.
/// </summary>
public abstract class RecurrentLayer : MultiOutputBlock
{
    /// <summary>Each layer's parameter names, one entry per direction.</summary>
    private readonly List<List<(string Wih, string Whh, string? Bih, string? Bhh)>> _names = [];

    /// <summary>The parameters those names hold now; rebound after a conversion, which replaces the parameter objects.</summary>
    private List<List<(Parameter Wih, Parameter Whh, Parameter? Bih, Parameter? Bhh)>> _layers = [];

    private protected RecurrentLayer(string name, long gates, long inputSize, long hiddenSize, long numLayers, bool bias, bool batchFirst, double dropout, bool bidirectional)
        : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        if (dropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout is a probability in [0, 1]");
        (InputSize, HiddenSize, NumLayers, HasBias, BatchFirst, Dropout, Bidirectional) = (inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
        string Make(string parameter, params long[] shape)
        {
            RegisterParameter(parameter, Initial(hiddenSize, shape));
            return parameter;
        }
        for (long l = 0; l < numLayers; l++)
        {
            var directions = new List<(string, string, string?, string?)>();
            for (int d = 0; d < (bidirectional ? 2 : 1); d++)
            {
                var suffix = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
                var layerInput = l == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1);
                directions.Add((Make("weight_ih" + suffix, gates * hiddenSize, layerInput), Make("weight_hh" + suffix, gates * hiddenSize, hiddenSize),
                                bias ? Make("bias_ih" + suffix, gates * hiddenSize) : null, bias ? Make("bias_hh" + suffix, gates * hiddenSize) : null));
            }
            _names.Add(directions);
        }
        BindParameters();
    }

    private void BindParameters()
    {
        var byName = named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        _layers = [.. _names.Select(directions => directions.Select(n => (byName[n.Wih], byName[n.Whh], n.Bih is null ? null : byName[n.Bih], n.Bhh is null ? null : byName[n.Bhh])).ToList())];
    }

    /// <inheritdoc/>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        base._toEpilog(dtype, device, non_blocking);
        BindParameters();
    }

    /// <summary>PyTorch's initialization of every recurrent parameter, layers and cells alike: U(−1/√H, 1/√H).</summary>
    internal static Tensor Initial(long hiddenSize, long[] shape)
    {
        using var noGrad = no_grad();
        var bound = 1 / Math.Sqrt(hiddenSize);
        return empty(shape).uniform_(-bound, bound);
    }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public long NumLayers { get; }

    public bool HasBias { get; }

    public bool BatchFirst { get; }

    public double Dropout { get; }

    public bool Bidirectional { get; }

    /// <inheritdoc/>
    protected sealed override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var x = BatchFirst ? Ops.Permute(inputs[0], 1, 0, 2) : inputs[0];
        var weights = _layers.Select(directions => (IReadOnlyList<RecurrentWeights>)[.. directions.Select(w =>
            new RecurrentWeights(Use(w.Wih), Use(w.Whh), w.Bih is null ? null : Use(w.Bih), w.Bhh is null ? null : Use(w.Bhh)))]).ToList();
        var outputs = Run(x, weights);
        return [BatchFirst ? Ops.Permute(outputs[0], 1, 0, 2) : outputs[0], .. outputs.Skip(1)];
    }

    /// <summary>The recurrence over a time-major input: the output, then the final states.</summary>
    private protected abstract IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights);

    /// <inheritdoc/>
    protected override string ExtraRepr =>
        string.Create(CultureInfo.InvariantCulture, $"{InputSize}, {HiddenSize}") +
        (NumLayers != 1 ? $", num_layers={NumLayers}" : "") + (HasBias ? "" : ", bias=False") + (BatchFirst ? ", batch_first=True" : "") +
        (Dropout != 0 ? $", dropout={PythonRepr.Float(Dropout)}" : "") + (Bidirectional ? ", bidirectional=True" : "");
}

/// <summary>PyTorch's <c>nn.LSTM</c>: three values, output, h_n and c_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class LSTM(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
    : RecurrentLayer(nameof(LSTM), 4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional)
{
    /// <inheritdoc/>
    public override int OutputCount => 3;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights)
    {
        var (output, hidden, cell) = Ops.Lstm(x, weights, dropout: Dropout, training: training);
        return [output, hidden, cell];
    }
}

/// <summary>PyTorch's <c>nn.GRU</c>: two values, output and h_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class GRU(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
    : RecurrentLayer(nameof(GRU), 3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional)
{
    /// <inheritdoc/>
    public override int OutputCount => 2;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights)
    {
        var (output, hidden) = Ops.Gru(x, weights, dropout: Dropout, training: training);
        return [output, hidden];
    }
}

/// <summary>PyTorch's <c>nn.RNN</c> with nonlinearity "tanh" or "relu": two values, output and h_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class RNN : RecurrentLayer
{
    public RNN(long inputSize, long hiddenSize, long numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
        : base(nameof(RNN), 1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional) =>
        Nonlinearity = nonlinearity is "tanh" or "relu" ? nonlinearity : throw new ArgumentException($"nonlinearity '{nonlinearity}' is not tanh or relu", nameof(nonlinearity));

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <inheritdoc/>
    public override int OutputCount => 2;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights)
    {
        var (output, hidden) = Ops.Rnn(x, weights, Nonlinearity == "relu", dropout: Dropout, training: training);
        return [output, hidden];
    }
}
