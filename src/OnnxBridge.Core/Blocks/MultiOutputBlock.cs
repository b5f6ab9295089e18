using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// A block whose forward gives several values — PyTorch's <c>forward</c> returning a tuple (two
/// heads, an output and its features). They export as several named graph outputs
/// (<see cref="Export.ExportOptions.OutputNames"/>), and parity bundles, <c>verify</c>,
/// <c>inspect</c>, repository configs and the host handle each. One input unless
/// <see cref="MultiInputBlock.InputCount"/> is overridden.
/// </summary>
public abstract class MultiOutputBlock : MultiInputBlock
{
    /// <param name="name">The block's type name, shown in structure prints.</param>
    protected MultiOutputBlock(string name) : base(name) { }

    /// <inheritdoc/>
    public override int InputCount => 1;

    /// <summary>How many values the forward gives.</summary>
    public abstract int OutputCount { get; }

    /// <summary>Runs this block on values, eagerly or recorded into the graph being exported; returns every output.</summary>
    public IReadOnlyList<Value> CallAll(IReadOnlyList<Value> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        CheckInputCount(inputs.Count);
        IReadOnlyList<Value> outputs;
        if (GraphRecorder.Current is not { } graph) outputs = ForwardAll(inputs);
        else
        {
            using (graph.EnterBlock(this))
            {
                outputs = ForwardAll(inputs);
                foreach (var output in outputs) graph.RecordBlockOutput(this, output);
            }
        }
        if (outputs.Count != OutputCount)
            throw new InvalidOperationException($"{GetType().Name} declares {OutputCount} outputs but its forward gave {outputs.Count}");
        return outputs;
    }

    /// <summary>The forward computation, giving <see cref="OutputCount"/> values.</summary>
    protected abstract IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs);

    /// <summary>
    /// One output is a plain block's output (so a one-output block, such as an imported single-output
    /// graph, fits in a Sequential and a trainer); several have no single output: call
    /// <see cref="CallAll"/> (or <see cref="Block.forward_all"/>).
    /// </summary>
    protected sealed override Value Forward(IReadOnlyList<Value> inputs) =>
        OutputCount == 1 ? ForwardAll(inputs)[0]
            : throw new InvalidOperationException($"{GetType().Name} gives {OutputCount} outputs; call CallAll (or forward_all) to get them all");
}
