using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What PyTorch's <c>nn.LSTM</c>, <c>nn.GRU</c> and <c>nn.RNN</c> share: the arguments
/// (input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional), the parameter
/// names (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, <c>_reverse</c>
/// for the second direction), the initialization (every parameter from U(−1/√H, 1/√H)) and so the
/// state-dict keys. The forward starts from the given initial states, or zeros; the output is
/// [seq, batch, directions·H] ([batch, seq, ...] when batch_first) and the final states
/// [layers·directions, batch, H]. Eagerly it runs libtorch's own kernel on its parameters
/// (<see cref="FusedRecurrence"/>); exports are ONNX LSTM/GRU/RNN nodes with dynamic batch and
/// sequence dimensions.
/// </summary>
public abstract class RecurrentLayer : MultiOutputBlock
{
    /// <summary>Each layer's parameter names, one entry per direction.</summary>
    private readonly List<List<(string Wih, string Whh, string? Bih, string? Bhh)>> _names = [];

    /// <summary>Makes the native module of this configuration (CPU, float32) that runs the eager forward.</summary>
    private readonly Func<nn.Module> _createNative;

    /// <summary>The native module whose parameters this layer registers (see <see cref="FusedRecurrence"/>).</summary>
    private FusedRecurrence _fused;

    private protected RecurrentLayer(string name, long gates, long inputSize, long hiddenSize, long numLayers, bool bias, bool batchFirst, double dropout, bool bidirectional,
                                     Func<nn.Module> createNative)
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
        _createNative = createNative;
        _fused = AdoptNative();
    }

    /// <summary>
    /// Builds the native module from the registered parameters' values, type and device, and
    /// registers its parameter objects in their place (disposing the replaced ones, which only this
    /// layer held: fresh from the constructor or from a conversion).
    /// </summary>
    private FusedRecurrence AdoptNative()
    {
        var registered = Registered();
        var fused = FusedRecurrence.Create(_createNative, registered);
        foreach (var (name, parameter) in fused.Parameters) ConditionallyRegisterParameter(name, parameter);
        foreach (var replaced in registered.Values) replaced.Dispose();
        return fused;
    }

    private Dictionary<string, Parameter> Registered() =>
        named_parameters(recurse: false).ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);

    /// <inheritdoc/>
    protected override void _toEpilog(ScalarType? dtype, Device? device, bool non_blocking)
    {
        // The conversion replaces each parameter with a converted copy (and disposes the native
        // module's); the layer then adopts a native module of the new type and device.
        base._toEpilog(dtype, device, non_blocking);
        _fused.Dispose();
        _fused = AdoptNative();
    }

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        if (disposing) _fused.Dispose();
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

    /// <summary>The input, then the optional initial states: h_0 (and c_0 for an LSTM), as PyTorch's <c>lstm(input, (h_0, c_0))</c>.</summary>
    public sealed override int InputCount => OutputCount;

    /// <summary>The input alone: the states start at zero.</summary>
    public sealed override int MinInputCount => 1;

    /// <summary>
    /// PyTorch's forward: <c>inputs[0]</c> is [seq, batch, features] ([batch, seq, ...] when batch_first),
    /// then optionally the initial states, each [layers·directions, batch, H] (batch_first or not, as
    /// in PyTorch); an LSTM takes h_0 and c_0 together. Exported with the states, they are graph inputs.
    /// </summary>
    protected sealed override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        if (inputs.Count != 1 && inputs.Count != InputCount)
            throw new ArgumentException($"{GetType().Name} takes the input alone or with all its initial states (h_0 and c_0), not {inputs.Count} values", nameof(inputs));
        if (inputs[0].Rank > 0 && inputs[0].Shape[^1].Size is { } features && features != InputSize)
            throw new ArgumentException($"{GetType().Name} has input_size {InputSize}, but its input {Dim.Format(inputs[0].Shape)} has {features} features", nameof(inputs));
        var states = inputs.Skip(1).ToList();
        // Eagerly libtorch's kernel runs it; the step-by-step form is what the export records (and
        // what refuses an input that is not [seq, batch, features]).
        if (GraphRecorder.Current is null && inputs[0].Rank == 3)
            return [.. _fused.Run(inputs[0].Tensor, [.. states.Select(s => s.Tensor)], training).Select(Value.Eager)];
        var registered = Registered();
        var x = BatchFirst ? Ops.Permute(inputs[0], 1, 0, 2) : inputs[0];
        var weights = _names.Select(directions => (IReadOnlyList<RecurrentWeights>)[.. directions.Select(n =>
            new RecurrentWeights(Use(registered[n.Wih]), Use(registered[n.Whh]), n.Bih is null ? null : Use(registered[n.Bih]), n.Bhh is null ? null : Use(registered[n.Bhh])))]).ToList();
        var outputs = Run(x, weights, states.Count > 0 ? states[0] : null, states.Count > 1 ? states[1] : null);
        return [BatchFirst ? Ops.Permute(outputs[0], 1, 0, 2) : outputs[0], .. outputs.Skip(1)];
    }

    /// <summary>The recurrence over a time-major input from the given (or zero) states: the output, then the final states.</summary>
    private protected abstract IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights, Value? h0, Value? c0);

    /// <inheritdoc/>
    protected override string ExtraRepr =>
        string.Create(CultureInfo.InvariantCulture, $"{InputSize}, {HiddenSize}") +
        (NumLayers != 1 ? $", num_layers={NumLayers}" : "") + (HasBias ? "" : ", bias=False") + (BatchFirst ? ", batch_first=True" : "") +
        (Dropout != 0 ? $", dropout={PythonRepr.Float(Dropout)}" : "") + (Bidirectional ? ", bidirectional=True" : "");
}

/// <summary>PyTorch's <c>nn.LSTM</c>: three values, output, h_n and c_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class LSTM(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
    : RecurrentLayer(nameof(LSTM), 4, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional,
                     () => nn.LSTM(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional))
{
    /// <inheritdoc/>
    public override int OutputCount => 3;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights, Value? h0, Value? c0)
    {
        var (output, hidden, cell) = Ops.Lstm(x, weights, h0, c0, Dropout, training);
        return [output, hidden, cell];
    }
}

/// <summary>PyTorch's <c>nn.GRU</c>: two values, output and h_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class GRU(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
    : RecurrentLayer(nameof(GRU), 3, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional,
                     () => nn.GRU(inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional))
{
    /// <inheritdoc/>
    public override int OutputCount => 2;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights, Value? h0, Value? c0)
    {
        var (output, hidden) = Ops.Gru(x, weights, h0, Dropout, training);
        return [output, hidden];
    }
}

/// <summary>PyTorch's <c>nn.RNN</c> with nonlinearity "tanh" or "relu": two values, output and h_n (see <see cref="RecurrentLayer"/>).</summary>
public sealed class RNN : RecurrentLayer
{
    public RNN(long inputSize, long hiddenSize, long numLayers = 1, string nonlinearity = "tanh", bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
        : base(nameof(RNN), 1, inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional,
               Native(inputSize, hiddenSize, numLayers, Checked(nonlinearity), bias, batchFirst, dropout, bidirectional)) =>
        Nonlinearity = nonlinearity;

    private static Func<nn.Module> Native(long inputSize, long hiddenSize, long numLayers, string nonlinearity, bool bias, bool batchFirst, double dropout, bool bidirectional) =>
        () => nn.RNN(inputSize, hiddenSize, numLayers, nonlinearity == "relu" ? nn.NonLinearities.ReLU : nn.NonLinearities.Tanh, bias, batchFirst, dropout, bidirectional);

    private static string Checked(string nonlinearity) =>
        nonlinearity is "tanh" or "relu" ? nonlinearity : throw new ArgumentException($"nonlinearity '{nonlinearity}' is not tanh or relu", nameof(nonlinearity));

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <inheritdoc/>
    public override int OutputCount => 2;

    private protected override IReadOnlyList<Value> Run(Value x, IReadOnlyList<IReadOnlyList<RecurrentWeights>> weights, Value? h0, Value? c0)
    {
        var (output, hidden) = Ops.Rnn(x, weights, Nonlinearity == "relu", h0, Dropout, training);
        return [output, hidden];
    }
}
