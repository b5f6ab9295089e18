using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>
/// The weights of one recurrent layer in one direction, in PyTorch's layout: W_ih [gates·H, in],
/// W_hh [gates·H, H], biases [gates·H], with PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n; RNN one).
/// </summary>
public sealed record RecurrentWeights(Value InputWeight, Value HiddenWeight, Value? InputBias, Value? HiddenBias);

/// <summary>
/// Recurrent layers as PyTorch computes them (step by step, eagerly) and as ONNX's LSTM, GRU and RNN
/// nodes do when exported: the gates reordered inside the graph to ONNX's order, so the initializers
/// keep their state-dict keys, with the sequence and batch dimensions dynamic.
/// </summary>
public static partial class Ops
{
    /// <summary>
    /// A multi-layer LSTM over a time-major <paramref name="input"/> [seq, batch, in], as
    /// <c>torch.nn.LSTM</c> computes it: <paramref name="layers"/> holds each layer's weights, one
    /// entry per direction (the reverse one second). <paramref name="h0"/> and <paramref name="c0"/>
    /// are [layers·directions, batch, H] (zeros when null); dropout between layers when
    /// <paramref name="training"/>. Returns the last layer's output [seq, batch, directions·H] and the
    /// final hidden and cell states [layers·directions, batch, H].
    /// </summary>
    public static (Value Output, Value Hidden, Value Cell) Lstm(Value input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, Value? h0 = null, Value? c0 = null,
                                                               double dropout = 0, bool training = false)
    {
        var states = Recurrent(RecurrentKind.Lstm, input, layers, h0, c0, dropout, training);
        return (states[0], states[1], states[2]);
    }

    /// <summary>A multi-layer GRU as <c>torch.nn.GRU</c> computes it (see <see cref="Lstm"/> for the arguments); returns the output and the final hidden state.</summary>
    public static (Value Output, Value Hidden) Gru(Value input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, Value? h0 = null, double dropout = 0, bool training = false)
    {
        var states = Recurrent(RecurrentKind.Gru, input, layers, h0, null, dropout, training);
        return (states[0], states[1]);
    }

    /// <summary>A multi-layer Elman RNN as <c>torch.nn.RNN</c> computes it, with tanh or, when <paramref name="relu"/>, ReLU; returns the output and the final hidden state.</summary>
    public static (Value Output, Value Hidden) Rnn(Value input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, bool relu = false, Value? h0 = null,
                                                   double dropout = 0, bool training = false)
    {
        var states = Recurrent(relu ? RecurrentKind.RnnRelu : RecurrentKind.RnnTanh, input, layers, h0, null, dropout, training);
        return (states[0], states[1]);
    }

    private enum RecurrentKind { Lstm, Gru, RnnTanh, RnnRelu }

    private static int Gates(RecurrentKind kind) => kind switch { RecurrentKind.Lstm => 4, RecurrentKind.Gru => 3, _ => 1 };

    private static Value[] Recurrent(RecurrentKind kind, Value input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, Value? h0, Value? c0, double dropout, bool training)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(layers);
        var op = kind == RecurrentKind.Lstm ? "LSTM" : kind == RecurrentKind.Gru ? "GRU" : "RNN";
        if (layers.Count == 0 || layers.Any(l => l.Count is not (1 or 2) || l.Count != layers[0].Count))
            throw new ArgumentException($"an {op} takes one or more layers of one or two directions each, the same number in every layer", nameof(layers));
        if (input.Rank != 3) throw Refused(op, $"takes a time-major input [seq, batch, features], got {Dim.Format(input.Shape)}", input);
        var hidden = layers[0][0].HiddenWeight.Shape[1].Size ?? throw Refused(op, "the hidden size must be known", input);
        return GraphOf([input, h0, c0, .. layers.SelectMany(l => l).Select(w => w.InputWeight)]) is { } graph
            ? RecurrentGraph(graph, kind, op, input, layers, hidden, h0, c0)
            : RecurrentEager(kind, input.Tensor, layers, hidden, h0?.Tensor, c0?.Tensor, dropout, training);
    }

    private static Value[] RecurrentEager(RecurrentKind kind, Tensor input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, long hidden, Tensor? h0, Tensor? c0,
                                          double dropout, bool training)
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
                // The input's share of every gate for all steps at once (with both biases where they
                // are simply added: not GRU's, whose hidden bias is gated by r); each step adds h·W_hhᵀ
                // in one addmm. Fewer ops per step is most of the eager speed here.
                var fromInput = x.matmul(w.InputWeight.Tensor.t());
                if (w.InputBias is { } bih) fromInput += bih.Tensor;
                var hiddenBias = w.HiddenBias?.Tensor;
                if (hiddenBias is not null && kind != RecurrentKind.Gru) (fromInput, hiddenBias) = (fromInput + hiddenBias, null);
                var perStep = fromInput.unbind(0);
                var recurrentWeight = w.HiddenWeight.Tensor.t();
                var ys = new Tensor[steps];
                for (long s = 0; s < steps; s++)
                {
                    var t = d == 0 ? s : steps - 1 - s;
                    switch (kind)
                    {
                        case RecurrentKind.Lstm:
                            var g = perStep[t].addmm(h, recurrentWeight).chunk(4, -1);
                            c = g[1].sigmoid() * c + g[0].sigmoid() * g[2].tanh();
                            h = g[3].sigmoid() * c.tanh();
                            break;
                        case RecurrentKind.Gru:
                            // PyTorch's GRU applies r to the hidden share after its bias (ONNX's linear_before_reset=1).
                            var fromHidden = hiddenBias is null ? h.matmul(recurrentWeight) : hiddenBias.addmm(h, recurrentWeight);
                            var (gi, gh) = (perStep[t].chunk(3, -1), fromHidden.chunk(3, -1));
                            var r = (gi[0] + gh[0]).sigmoid();
                            var z = (gi[1] + gh[1]).sigmoid();
                            var n = (gi[2] + r * gh[2]).tanh();
                            h = (1 - z) * n + z * h;
                            break;
                        default:
                            var pre = perStep[t].addmm(h, recurrentWeight);
                            h = kind == RecurrentKind.RnnRelu ? pre.relu() : pre.tanh();
                            break;
                    }
                    ys[t] = h;
                }
                outputs.Add(stack(ys, 0));
                finalH.Add(h);
                finalC.Add(c);
            }
            x = directions == 1 ? outputs[0] : cat(outputs, -1);
            if (l < layers.Count - 1 && dropout > 0 && training) x = nn.functional.dropout(x, dropout, true);
        }
        Value[] result = [Value.Eager(x), Value.Eager(stack(finalH, 0))];
        return kind == RecurrentKind.Lstm ? [.. result, Value.Eager(stack(finalC, 0))] : result;
    }

    private static Value[] RecurrentGraph(GraphRecorder graph, RecurrentKind kind, string op, Value input, IReadOnlyList<IReadOnlyList<RecurrentWeights>> layers, long hidden,
                                          Value? h0, Value? c0)
    {
        var directions = layers[0].Count;
        var x = Lift(graph, input);
        var (finalH, finalC) = (new List<Value>(), new List<Value>());
        for (int l = 0; l < layers.Count; l++)
        {
            // ONNX stacks the directions first and has its own gate order.
            Value Stacked(Func<RecurrentWeights, Value> pick) => Cat([.. layers[l].Select(w => Unsqueeze(pick(w), 0))], 0);
            var weights = Lift(graph, Stacked(w => OnnxGateOrder(kind, w.InputWeight, hidden)));
            var recurrence = Lift(graph, Stacked(w => OnnxGateOrder(kind, w.HiddenWeight, hidden)));
            var bias = layers[l][0].InputBias is null ? null   // B is [Wb; Rb], each reordered
                : Lift(graph, Stacked(w => Cat([OnnxGateOrder(kind, w.InputBias!, hidden), OnnxGateOrder(kind, w.HiddenBias ?? ZerosLike(w.InputBias!), hidden)], 0)));
            var initialH = h0 is null ? null : Lift(graph, Narrow(h0, 0, l * directions, directions));
            var initialC = c0 is null ? null : Lift(graph, Narrow(c0, 0, l * directions, directions));
            var (steps, batch) = (x.Shape[0], x.Shape[1]);
            Dim[] stateShape = [Dim.Known(directions), batch, Dim.Known(hidden)];
            var node = graph.Node(op).Input(x, weights, recurrence).OptionalInput(bias).OptionalInput(null).OptionalInput(initialH);
            if (kind == RecurrentKind.Lstm) node = node.OptionalInput(initialC);
            node = node.Attribute("hidden_size", hidden).Attribute("direction", directions == 2 ? "bidirectional" : "forward");
            if (kind == RecurrentKind.Gru) node = node.Attribute("linear_before_reset", 1);
            if (kind is RecurrentKind.RnnTanh or RecurrentKind.RnnRelu)
                node = node.Attribute("activations", Enumerable.Repeat(kind == RecurrentKind.RnnRelu ? "Relu" : "Tanh", directions));
            (Onnx.Proto.TensorProto.Types.DataType, IReadOnlyList<Dim>)[] shapes = [(x.ElementType, [steps, Dim.Known(directions), batch, Dim.Known(hidden)]), (x.ElementType, stateShape)];
            var outputs = node.Outputs(kind == RecurrentKind.Lstm ? [.. shapes, (x.ElementType, stateShape)] : shapes);
            // Y [seq, directions, batch, H] → [seq, batch, directions·H], the next layer's input.
            var transposed = graph.Node("Transpose").Input(outputs[0]).Attribute("perm", [0L, 2, 1, 3]).Output(x.ElementType, [steps, batch, Dim.Known(directions), Dim.Known(hidden)]);
            x = graph.Node("Reshape").Input(transposed).ConstantInput(0, 0, -1).Output(x.ElementType, [steps, batch, Dim.Known(directions * hidden)]);
            finalH.Add(Value.Symbolic(outputs[1]));
            if (kind == RecurrentKind.Lstm) finalC.Add(Value.Symbolic(outputs[2]));
        }
        Value Joined(List<Value> states) => states.Count == 1 ? states[0] : Cat(states, 0);
        return kind == RecurrentKind.Lstm ? [Value.Symbolic(x), Joined(finalH), Joined(finalC)] : [Value.Symbolic(x), Joined(finalH)];
    }

    /// <summary>PyTorch's gate blocks of <paramref name="hidden"/> rows in ONNX's order: LSTM i, f, g, o → i, o, f, c; GRU r, z, n → z, r, h; RNN unchanged.</summary>
    private static Value OnnxGateOrder(RecurrentKind kind, Value w, long hidden)
    {
        Value Block(long k) => Narrow(w, 0, k * hidden, hidden);
        return kind switch
        {
            RecurrentKind.Lstm => Cat([Block(0), Block(3), Block(1), Block(2)], 0),
            RecurrentKind.Gru => Cat([Block(1), Block(0), Block(2)], 0),
            _ => w,
        };
    }
}
