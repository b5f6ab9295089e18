using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>The weights of one LSTM layer in one direction, in PyTorch's layout: W_ih [4H, in], W_hh [4H, H], biases [4H], gates in PyTorch's order i, f, g, o.</summary>
public sealed record LstmWeights(Value InputWeight, Value HiddenWeight, Value? InputBias, Value? HiddenBias);

/// <summary>Recurrent layers: PyTorch's LSTM computed step by step eagerly, and ONNX's LSTM node (gates reordered) when exported.</summary>
public static partial class Ops
{
    /// <summary>
    /// A multi-layer LSTM over a time-major <paramref name="input"/> [seq, batch, in], as PyTorch's
    /// <c>torch.nn.LSTM</c> computes it: <paramref name="layers"/> holds each layer's weights, one
    /// entry per direction (two: bidirectional, the reverse one second). <paramref name="h0"/> and
    /// <paramref name="c0"/> are [layers·directions, batch, H] (zeros when null). Between layers,
    /// dropout with probability <paramref name="dropout"/> when <paramref name="training"/>. Returns
    /// the last layer's output [seq, batch, directions·H] and the final hidden and cell states
    /// [layers·directions, batch, H]. Exported, each layer is an ONNX <c>LSTM</c> node whose weights are
    /// the parameters with the gates reordered to ONNX's i, o, f, c inside the graph, so the
    /// initializers keep their state-dict keys and the sequence and batch dimensions stay dynamic.
    /// </summary>
    public static (Value Output, Value Hidden, Value Cell) Lstm(Value input, IReadOnlyList<IReadOnlyList<LstmWeights>> layers, Value? h0 = null, Value? c0 = null,
                                                               double dropout = 0, bool training = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0 || layers.Any(l => l.Count is not (1 or 2) || l.Count != layers[0].Count))
            throw new ArgumentException("an LSTM takes one or more layers of one or two directions each, the same number in every layer", nameof(layers));
        if (input.Rank != 3) throw Refused("LSTM", $"takes a time-major input [seq, batch, features], got {Dim.Format(input.Shape)}", input);
        var hidden = layers[0][0].HiddenWeight.Shape[1].Size ?? throw Refused("LSTM", "the hidden size must be known", input);
        return GraphOf([input, h0, c0, .. layers.SelectMany(l => l).Select(w => w.InputWeight)]) is { } graph
            ? LstmGraph(graph, input, layers, hidden, h0, c0)
            : LstmEager(input.Tensor, layers, hidden, h0?.Tensor, c0?.Tensor, dropout, training);
    }

    private static (Value, Value, Value) LstmEager(Tensor input, IReadOnlyList<IReadOnlyList<LstmWeights>> layers, long hidden, Tensor? h0, Tensor? c0, double dropout, bool training)
    {
        var directions = layers[0].Count;
        var (steps, batch) = (input.shape[0], input.shape[1]);
        var (finalH, finalC) = (new List<Tensor>(), new List<Tensor>());
        var x = input;
        for (int l = 0; l < layers.Count; l++)
        {
            var outputs = new List<Tensor>();
            for (int d = 0; d < directions; d++)
            {
                var w = layers[l][d];
                var k = l * directions + d;
                var h = h0 is null ? zeros([batch, hidden], input.dtype, input.device) : h0[k];
                var c = c0 is null ? zeros([batch, hidden], input.dtype, input.device) : c0[k];
                // The input's share of every gate for all steps at once; the recurrence adds h's each step.
                var fromInput = x.matmul(w.InputWeight.Tensor.t());
                if (w.InputBias is { } bih) fromInput += bih.Tensor;
                var ys = new Tensor[steps];
                for (long s = 0; s < steps; s++)
                {
                    var t = d == 0 ? s : steps - 1 - s;
                    var gates = fromInput[t] + h.matmul(w.HiddenWeight.Tensor.t());
                    if (w.HiddenBias is { } bhh) gates += bhh.Tensor;
                    var chunks = gates.chunk(4, -1);
                    c = chunks[1].sigmoid() * c + chunks[0].sigmoid() * chunks[2].tanh();
                    h = chunks[3].sigmoid() * c.tanh();
                    ys[t] = h;
                }
                outputs.Add(stack(ys, 0));
                finalH.Add(h);
                finalC.Add(c);
            }
            x = directions == 1 ? outputs[0] : cat(outputs, -1);
            if (l < layers.Count - 1 && dropout > 0 && training) x = nn.functional.dropout(x, dropout, true);
        }
        return (Value.Eager(x), Value.Eager(stack(finalH, 0)), Value.Eager(stack(finalC, 0)));
    }

    private static (Value, Value, Value) LstmGraph(GraphRecorder graph, Value input, IReadOnlyList<IReadOnlyList<LstmWeights>> layers, long hidden, Value? h0, Value? c0)
    {
        var directions = layers[0].Count;
        var x = Lift(graph, input);
        var (finalH, finalC) = (new List<Value>(), new List<Value>());
        for (int l = 0; l < layers.Count; l++)
        {
            // ONNX stacks the directions first and orders the gates i, o, f, c where PyTorch has i, f, g, o.
            Value Stacked(Func<LstmWeights, Value> pick) => Cat([.. layers[l].Select(w => Unsqueeze(pick(w), 0))], 0);
            var weights = Lift(graph, Stacked(w => OnnxGateOrder(w.InputWeight, hidden)));
            var recurrence = Lift(graph, Stacked(w => OnnxGateOrder(w.HiddenWeight, hidden)));
            // B is [Wb; Rb], each reordered.
            var bias = layers[l][0].InputBias is null ? null
                : Lift(graph, Stacked(w => Cat([OnnxGateOrder(w.InputBias!, hidden), OnnxGateOrder(w.HiddenBias ?? ZerosLike(w.InputBias!), hidden)], 0)));
            var initialH = h0 is null ? null : Lift(graph, Narrow(h0, 0, l * directions, directions));
            var initialC = c0 is null ? null : Lift(graph, Narrow(c0, 0, l * directions, directions));
            var (steps, batch) = (x.Shape[0], x.Shape[1]);
            var outputs = graph.Node("LSTM").Input(x, weights, recurrence).OptionalInput(bias).OptionalInput(null).OptionalInput(initialH).OptionalInput(initialC)
                .Attribute("hidden_size", hidden).Attribute("direction", directions == 2 ? "bidirectional" : "forward")
                .Outputs((x.ElementType, [steps, Dim.Known(directions), batch, Dim.Known(hidden)]),
                         (x.ElementType, [Dim.Known(directions), batch, Dim.Known(hidden)]),
                         (x.ElementType, [Dim.Known(directions), batch, Dim.Known(hidden)]));
            // Y [seq, directions, batch, H] → [seq, batch, directions·H], the next layer's input.
            var transposed = graph.Node("Transpose").Input(outputs[0]).Attribute("perm", [0L, 2, 1, 3]).Output(x.ElementType, [steps, batch, Dim.Known(directions), Dim.Known(hidden)]);
            x = graph.Node("Reshape").Input(transposed).ConstantInput(0, 0, -1).Output(x.ElementType, [steps, batch, Dim.Known(directions * hidden)]);
            finalH.Add(Value.Symbolic(outputs[1]));
            finalC.Add(Value.Symbolic(outputs[2]));
        }
        return (Value.Symbolic(x), finalH.Count == 1 ? finalH[0] : Cat(finalH, 0), finalC.Count == 1 ? finalC[0] : Cat(finalC, 0));
    }

    /// <summary>[i; f; g; o] blocks of <paramref name="hidden"/> rows reordered to ONNX's [i; o; f; c].</summary>
    private static Value OnnxGateOrder(Value w, long hidden) =>
        Cat([Narrow(w, 0, 0, hidden), Narrow(w, 0, 3 * hidden, hidden), Narrow(w, 0, hidden, hidden), Narrow(w, 0, 2 * hidden, hidden)], 0);
}
