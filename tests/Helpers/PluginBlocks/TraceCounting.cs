using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Tests.PluginBlocks;

/// <summary>Linear(4, 3) that counts how often its forward is traced (run on symbolic values), so tests can check a command exports once.</summary>
public sealed class TraceCounting : Block
{
    private static int s_traces;

    private readonly Linear _linear;

    public TraceCounting() : base(nameof(TraceCounting)) => _linear = Register("linear", new Linear(4, 3));

    /// <summary>Symbolic forwards since the last <see cref="ResetTraces"/>.</summary>
    public static int Traces => Volatile.Read(ref s_traces);

    public static void ResetTraces() => Interlocked.Exchange(ref s_traces, 0);

    protected override Value Forward(Value input)
    {
        if (input.IsSymbolic) Interlocked.Increment(ref s_traces);
        return _linear.Call(input);
    }
}

/// <summary>A block whose forward fails in a way OnnxBridge cannot foresee: a bug, for the CLI's internal-error path.</summary>
public sealed class Buggy : Block
{
    public Buggy() : base(nameof(Buggy)) { }

    protected override Value Forward(Value input) => throw new InvalidOperationException("the plugin's own bug");
}
