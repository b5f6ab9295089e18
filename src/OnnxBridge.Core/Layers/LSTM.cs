using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// PyTorch's <c>nn.LSTM(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
/// dropout=0.0, bidirectional=False)</c>: the same arguments, parameter names
/// (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>, <c>_reverse</c> for
/// the second direction), initialization (every parameter from U(−1/√H, 1/√H)) and state-dict keys.
/// Its forward gives PyTorch's three values — output [seq, batch, directions·H] (batch first when
/// <c>batch_first</c>), h_n and c_n [layers·directions, batch, H] — from zero initial states
/// (<see cref="Ops.Lstm"/> takes given ones). It exports to ONNX <c>LSTM</c> nodes with dynamic batch and
/// sequence dimensions.
/// </summary>
public sealed class LSTM : MultiOutputBlock
{
    private readonly List<List<(Parameter Wih, Parameter Whh, Parameter? Bih, Parameter? Bhh)>> _layers = [];

    public LSTM(long inputSize, long hiddenSize, long numLayers = 1, bool bias = true, bool batchFirst = false, double dropout = 0, bool bidirectional = false)
        : base(nameof(LSTM))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numLayers);
        if (dropout is < 0 or > 1) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout is a probability in [0, 1]");
        (InputSize, HiddenSize, NumLayers, HasBias, BatchFirst, Dropout, Bidirectional) = (inputSize, hiddenSize, numLayers, bias, batchFirst, dropout, bidirectional);
        var bound = 1 / Math.Sqrt(hiddenSize);
        Parameter Make(string name, params long[] shape)
        {
            using var noGrad = no_grad();
            return RegisterParameter(name, empty(shape).uniform_(-bound, bound));
        }
        for (long l = 0; l < numLayers; l++)
        {
            var directions = new List<(Parameter, Parameter, Parameter?, Parameter?)>();
            for (int d = 0; d < (bidirectional ? 2 : 1); d++)
            {
                var suffix = string.Create(CultureInfo.InvariantCulture, $"_l{l}{(d == 1 ? "_reverse" : "")}");
                var layerInput = l == 0 ? inputSize : hiddenSize * (bidirectional ? 2 : 1);
                directions.Add((Make("weight_ih" + suffix, 4 * hiddenSize, layerInput), Make("weight_hh" + suffix, 4 * hiddenSize, hiddenSize),
                                bias ? Make("bias_ih" + suffix, 4 * hiddenSize) : null, bias ? Make("bias_hh" + suffix, 4 * hiddenSize) : null));
            }
            _layers.Add(directions);
        }
    }

    public long InputSize { get; }

    public long HiddenSize { get; }

    public long NumLayers { get; }

    public bool HasBias { get; }

    public bool BatchFirst { get; }

    public double Dropout { get; }

    public bool Bidirectional { get; }

    /// <inheritdoc/>
    public override int OutputCount => 3;

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var x = BatchFirst ? Ops.Permute(inputs[0], 1, 0, 2) : inputs[0];
        var weights = _layers.Select(directions => (IReadOnlyList<LstmWeights>)[.. directions.Select(w =>
            new LstmWeights(Use(w.Wih), Use(w.Whh), w.Bih is null ? null : Use(w.Bih), w.Bhh is null ? null : Use(w.Bhh)))]).ToList();
        var (output, hidden, cell) = Ops.Lstm(x, weights, dropout: Dropout, training: training);
        return [BatchFirst ? Ops.Permute(output, 1, 0, 2) : output, hidden, cell];
    }

    /// <inheritdoc/>
    protected override string ExtraRepr =>
        string.Create(CultureInfo.InvariantCulture, $"{InputSize}, {HiddenSize}") +
        (NumLayers != 1 ? $", num_layers={NumLayers}" : "") + (HasBias ? "" : ", bias=False") + (BatchFirst ? ", batch_first=True" : "") +
        (Dropout != 0 ? $", dropout={PythonRepr.Float(Dropout)}" : "") + (Bidirectional ? ", bidirectional=True" : "");
}
