using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// A block whose forward takes several values (a network with several graph inputs). Eagerly it is
/// called with <see cref="forward(Tensor[])"/>; exports declare one <see cref="InputSpec"/> per input,
/// in order.
/// </summary>
public abstract class MultiInputBlock : Block
{
    /// <param name="name">The block's type name, shown in structure prints.</param>
    protected MultiInputBlock(string name) : base(name) { }

    /// <summary>How many inputs the forward takes (at most, when <see cref="MinInputCount"/> is fewer).</summary>
    public abstract int InputCount { get; }

    /// <summary>How many inputs the forward takes at least: the trailing ones are optional (a recurrent layer's initial states).</summary>
    public virtual int MinInputCount => InputCount;

    /// <summary>Refuses a call with a number of inputs this block does not take.</summary>
    private protected void CheckInputCount(int count)
    {
        if (count < MinInputCount || count > InputCount)
            throw new ArgumentException($"{GetType().Name} takes {(MinInputCount == InputCount ? $"{InputCount}" : $"{MinInputCount} to {InputCount}")} inputs, {count} were given", "inputs");
    }

    /// <summary>Runs the forward eagerly on tensors, one per input.</summary>
    public Tensor forward(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return Call([.. inputs.Select(Value.Eager)]).Tensor;
    }

    /// <summary>Runs this block on values: eagerly, or recorded into the graph being exported.</summary>
    public Value Call(IReadOnlyList<Value> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        CheckInputCount(inputs.Count);
        if (GraphRecorder.Current is not { } graph) return Forward(inputs);
        using (graph.EnterBlock(this))
        {
            var output = Forward(inputs);
            graph.RecordBlockOutput(this, output);
            return output;
        }
    }

    /// <summary>The forward computation over all inputs, written against <see cref="Value"/>.</summary>
    protected abstract Value Forward(IReadOnlyList<Value> inputs);

    /// <inheritdoc/>
    protected sealed override Value Forward(Value input) =>
        MinInputCount == 1 ? Forward([input]) : throw new InvalidOperationException($"{GetType().Name} takes {MinInputCount} inputs; call it with all of them");
}
