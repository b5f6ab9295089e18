using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Sequences;

/// <summary>
/// The Transformer take on the bracket task: Embedding → sinusoidal positions → 2 causal
/// Transformer encoder layers (batch first), so each position sees its prefix → max over positions →
/// Linear to the two classes. The causal mask is computed in the graph from the sequence length, so
/// the one export serves every length.
/// </summary>
public sealed class BracketTransformer : Block
{
    private readonly Embedding _embed;
    private readonly SinusoidalPositionalEncoding _positions;
    private readonly TransformerEncoder _encoder;
    private readonly Linear _head;

    public BracketTransformer(long dModel = 32) : base(nameof(BracketTransformer))
    {
        _embed = Register("embed", new Embedding(2, dModel));
        _positions = Register("positions", new SinusoidalPositionalEncoding(dModel, dropout: 0, batchFirst: true));
        _encoder = Register("encoder", new TransformerEncoder(new TransformerEncoderLayer(dModel, 4, 2 * dModel, dropout: 0, batchFirst: true), 2));
        _head = Register("head", new Linear(dModel, 2));
    }

    protected override Value Forward(Value tokens)
    {
        var states = _encoder.Encode(_positions.Call(_embed.Call(tokens)), isCausal: true);   // [batch, seq, d]
        return _head.Call(Ops.Amax(states, [1]));
    }
}
