using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Samples.Sequences;

/// <summary>
/// Embedding → 2-layer LSTM (batch first) → the last layer's final hidden state → Linear to the two
/// classes. Written as PyTorch would: <c>_, (h, _) = self.lstm(self.embed(x)); return self.head(h[-1])</c>.
/// </summary>
public sealed class BracketClassifier : Block
{
    private readonly Embedding _embed;
    private readonly LSTM _lstm;
    private readonly Linear _head;

    public BracketClassifier(long hidden = 32) : base(nameof(BracketClassifier))
    {
        _embed = Register("embed", new Embedding(2, 8));
        _lstm = Register("lstm", new LSTM(8, hidden, numLayers: 2, batchFirst: true));
        _head = Register("head", new Linear(hidden, 2));
    }

    protected override Value Forward(Value tokens)
    {
        var states = _lstm.CallAll([_embed.Call(tokens)]);
        var last = Ops.Squeeze(Ops.Narrow(states[1], 0, 1, 1), 0);   // h_n [layers, batch, H]: the top layer's
        return _head.Call(last);
    }
}
