using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What PyTorch's <c>nn.LSTMCell</c>, <c>nn.GRUCell</c> and <c>nn.RNNCell</c> share: one step of the
/// recurrence on a batch, with the parameters <c>weight_ih</c> [gates·H, in], <c>weight_hh</c>
/// [gates·H, H], <c>bias_ih</c>, <c>bias_hh</c> initialized from U(−1/√H, 1/√H). The states are
/// explicit inputs (PyTorch's optional <c>hx</c>; pass zeros for none), so a user block can loop a
/// cell over time; it exports as Gemm and element-wise ops, as PyTorch's exporter writes cells.
/// </summary>
public abstract class RecurrentCell : MultiOutputBlock
{
    private protected RecurrentCell(string name, long gates, long inputSize, long hiddenSize, bool bias) : base(name)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        (InputSize, HiddenSize, HasBias) = (inputSize, hiddenSize, bias);
        Parameter Make(string parameter, params long[] shape) => RegisterParameter(parameter, RecurrentLayer.Initial(hiddenSize, shape));
        WeightIh = Make("weight_ih", gates * hiddenSize, inputSize);
        WeightHh = Make("weight_hh", gates * hiddenSize, hiddenSize);
        BiasIh = bias ? Make("bias_ih", gates * hiddenSize) : null;
        BiasHh = bias ? Make("bias_hh", gates * hiddenSize) : null;
    }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public bool HasBias { get; }

    private protected Parameter WeightIh { get; }

    private protected Parameter WeightHh { get; }

    private protected Parameter? BiasIh { get; }

    private protected Parameter? BiasHh { get; }

    /// <summary>x·W_ihᵀ + b_ih and h·W_hhᵀ + b_hh, the two halves every cell adds or gates.</summary>
    private protected (Value FromInput, Value FromHidden) Projections(Value x, Value h) =>
        (Ops.Linear(x, Use(WeightIh), BiasIh is null ? null : Use(BiasIh)), Ops.Linear(h, Use(WeightHh), BiasHh is null ? null : Use(BiasHh)));

    /// <inheritdoc/>
    protected override string ExtraRepr => $"{InputSize}, {HiddenSize}" + (HasBias ? "" : ", bias=False");
}

/// <summary>PyTorch's <c>nn.LSTMCell</c>: inputs x [batch, in], h and c [batch, H]; outputs h′ and c′.</summary>
public sealed class LSTMCell(long inputSize, long hiddenSize, bool bias = true) : RecurrentCell(nameof(LSTMCell), 4, inputSize, hiddenSize, bias)
{
    /// <inheritdoc/>
    public override int InputCount => 3;

    /// <inheritdoc/>
    public override int OutputCount => 2;

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var (fromInput, fromHidden) = Projections(inputs[0], inputs[1]);
        var gates = Ops.Chunk(fromInput + fromHidden, 4, -1);
        var c = Ops.Sigmoid(gates[1]) * inputs[2] + Ops.Sigmoid(gates[0]) * Ops.Tanh(gates[2]);
        return [Ops.Sigmoid(gates[3]) * Ops.Tanh(c), c];
    }
}

/// <summary>PyTorch's <c>nn.GRUCell</c>: inputs x [batch, in] and h [batch, H]; output h′.</summary>
public sealed class GRUCell(long inputSize, long hiddenSize, bool bias = true) : RecurrentCell(nameof(GRUCell), 3, inputSize, hiddenSize, bias)
{
    /// <inheritdoc/>
    public override int InputCount => 2;

    /// <inheritdoc/>
    public override int OutputCount => 1;

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var (fromInput, fromHidden) = Projections(inputs[0], inputs[1]);
        var (gi, gh) = (Ops.Chunk(fromInput, 3, -1), Ops.Chunk(fromHidden, 3, -1));
        var r = Ops.Sigmoid(gi[0] + gh[0]);
        var z = Ops.Sigmoid(gi[1] + gh[1]);
        var n = Ops.Tanh(gi[2] + r * gh[2]);
        return [n + z * (inputs[1] - n)];   // (1 − z)·n + z·h
    }
}

/// <summary>PyTorch's <c>nn.RNNCell</c> with nonlinearity "tanh" or "relu": inputs x [batch, in] and h [batch, H]; output h′.</summary>
public sealed class RNNCell : RecurrentCell
{
    public RNNCell(long inputSize, long hiddenSize, bool bias = true, string nonlinearity = "tanh") : base(nameof(RNNCell), 1, inputSize, hiddenSize, bias) =>
        Nonlinearity = nonlinearity is "tanh" or "relu" ? nonlinearity : throw new ArgumentException($"nonlinearity '{nonlinearity}' is not tanh or relu", nameof(nonlinearity));

    /// <summary>"tanh" or "relu".</summary>
    public string Nonlinearity { get; }

    /// <inheritdoc/>
    public override int InputCount => 2;

    /// <inheritdoc/>
    public override int OutputCount => 1;

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var (fromInput, fromHidden) = Projections(inputs[0], inputs[1]);
        return [Nonlinearity == "relu" ? Ops.Relu(fromInput + fromHidden) : Ops.Tanh(fromInput + fromHidden)];
    }

    /// <inheritdoc/>
    protected override string ExtraRepr => base.ExtraRepr + (Nonlinearity == "relu" ? ", nonlinearity=relu" : "");
}
