using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;
using DropoutLayer = OnnxBridge.Core.Layers.Dropout;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// Adds the sinusoidal position encoding of "Attention Is All You Need" (PyTorch's Transformer
/// tutorial's <c>PositionalEncoding</c>): PE[pos, 2i] = sin(pos / 10000^(2i/d)), PE[pos, 2i+1] = cos(…),
/// then dropout. The tutorial keeps a [max_len, d] buffer; here the table is computed from the
/// sequence length at run time, so there is no maximum length, no state-dict entry, and an export
/// serves every length. Input [seq, batch, d] ([batch, seq, d] when batch first).
/// </summary>
public sealed class SinusoidalPositionalEncoding : Block
{
    private readonly DropoutLayer _dropout;

    public SinusoidalPositionalEncoding(long dModel, double dropout = 0.1, bool batchFirst = false) : base(nameof(SinusoidalPositionalEncoding))
    {
        if (dModel <= 0 || dModel % 2 != 0) throw new ArgumentOutOfRangeException(nameof(dModel), dModel, "d_model must be a positive even number (sine and cosine pairs)");
        (DModel, Dropout, BatchFirst) = (dModel, dropout, batchFirst);
        _dropout = Register("dropout", new DropoutLayer(dropout));
    }

    public long DModel { get; }

    public double Dropout { get; }

    public bool BatchFirst { get; }

    /// <summary>The [length, d] table for an int64 scalar <paramref name="length"/>, as float.</summary>
    public static Value Table(Value length, long dModel)
    {
        ArgumentNullException.ThrowIfNull(length);
        // On the length's device (a symbolic length: a constant of the graph), as Size and Arange keep theirs.
        var device = length.IsSymbolic ? CPU : length.Tensor.device;
        var inverseFrequencies = Value.Eager(exp(arange(0, dModel, 2, ScalarType.Float32, device) * (-Math.Log(10000.0) / dModel)));
        var positions = Ops.To(Ops.Arange(length), DataType.Float);
        var angles = Ops.Unsqueeze(positions, 1) * Ops.Unsqueeze(inverseFrequencies, 0);             // [L, d/2]
        return Ops.Flatten(Ops.Stack([Ops.Sin(angles), Ops.Cos(angles)], -1), -2, -1);             // [L, d]: sin, cos interleaved
    }

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (input.Rank != 3 || input.Shape[2].Size is { } d && d != DModel)
            throw new ArgumentException($"SinusoidalPositionalEncoding({DModel}) takes [{(BatchFirst ? "batch, seq" : "seq, batch")}, {DModel}], got {Dim.Format(input.Shape)}");
        var table = Ops.To(Table(Ops.Size(input, BatchFirst ? 1 : 0), DModel), input.ElementType);
        return _dropout.Call(input + Ops.Unsqueeze(table, BatchFirst ? 0 : 1));
    }

    /// <inheritdoc/>
    protected override string ExtraRepr => $"d_model={DModel}" + (BatchFirst ? ", batch_first=True" : "");
}

/// <summary>
/// Adds a learned embedding of each position (a <c>weight</c> [max_length, d] drawn from N(0, 1), as
/// nn.Embedding's): x + weight[0..L). Longer sequences than <see cref="MaxLength"/> are refused.
/// Input [seq, batch, d] ([batch, seq, d] when batch first).
/// </summary>
public sealed class LearnedPositionalEmbedding : Block
{
    public LearnedPositionalEmbedding(long maxLength, long dModel, bool batchFirst = false) : base(nameof(LearnedPositionalEmbedding))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(dModel);
        (MaxLength, DModel, BatchFirst) = (maxLength, dModel, batchFirst);
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", randn(maxLength, dModel));
    }

    public long MaxLength { get; }

    public long DModel { get; }

    public bool BatchFirst { get; }

    public TorchSharp.Modules.Parameter Weight { get; }

    /// <inheritdoc/>
    protected override Value Forward(Value input)
    {
        if (input.Rank != 3 || input.Shape[2].Size is { } d && d != DModel)
            throw new ArgumentException($"LearnedPositionalEmbedding({MaxLength}, {DModel}) takes [{(BatchFirst ? "batch, seq" : "seq, batch")}, {DModel}], got {Dim.Format(input.Shape)}");
        var seqDim = BatchFirst ? 1 : 0;
        if (input.Shape[seqDim].Size is { } length && length > MaxLength)
            throw new ArgumentException($"LearnedPositionalEmbedding({MaxLength}, {DModel}) holds {MaxLength} positions, but the sequence has {length}");
        var positions = Ops.Embedding(Ops.Arange(Ops.Size(input, seqDim)), Use(Weight));   // [L, d]
        return input + Ops.Unsqueeze(positions, BatchFirst ? 0 : 1);
    }

    /// <inheritdoc/>
    protected override string ExtraRepr => $"{MaxLength}, {DModel}" + (BatchFirst ? ", batch_first=True" : "");
}
