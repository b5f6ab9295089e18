using OnnxBridge.Core.Tracing;
using OnnxBridge.Onnx.Tensors;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>
/// Data-dependent control flow that exports. Eagerly these are ordinary C# loops and branches on
/// the tensor's value; during export they record ONNX <c>Loop</c> and <c>If</c> nodes whose bodies
/// are recorded from the same lambdas, so the exported model decides at run time, for every input —
/// unlike a tracing exporter, which freezes the path taken for the example input.
/// </summary>
public static class Flow
{
    /// <summary>
    /// <c>while (condition(x)) x = body(x); return x;</c> — d2l's <c>while X.abs().sum() &gt; 1: X /= 2</c>
    /// is <c>Flow.While(x, x =&gt; x.Abs().Sum() &gt; 1, x =&gt; x / 2)</c>.
    /// </summary>
    /// <param name="condition">Maps the loop value to a bool scalar.</param>
    /// <param name="body">Maps the loop value to its next value, of the same element type and shape.</param>
    /// <param name="maxIterations">An optional cap (ONNX Loop's M): the loop stops after that many iterations.</param>
    public static Value While(Value initial, Func<Value, Value> condition, Func<Value, Value> body, long? maxIterations = null)
    {
        ArgumentNullException.ThrowIfNull(initial);
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(body);
        if (!initial.IsSymbolic && GraphRecorder.Current is null)
        {
            var x = initial;
            for (long i = 0; (maxIterations is null || i < maxIterations) && IsTrue(condition(x)); i++) x = body(x);
            return x;
        }

        var graph = GraphRecorder.Current ?? initial.Symbol.Graph;
        var start = Ops.Lift(graph, initial);
        var firstCondition = Ops.Lift(graph, condition(Value.Symbolic(start)));
        RequireBoolScalar(graph, firstCondition, "Loop");
        var bodyGraph = graph.RecordSubgraph("Loop_body",
            [("iteration_num", DataType.Int64, []), ("cond_in", DataType.Bool, []), ("x_in", start.ElementType, start.Shape)],
            inputs =>
            {
                var next = Ops.Lift(graph, body(Value.Symbolic(inputs[2])));
                if (next.ElementType != start.ElementType || !SameShape(next.Shape, start.Shape))
                    throw graph.Error($"the While body must keep the loop value's type and shape: {ElementTypes.Name(start.ElementType)}{Dim.Format(start.Shape)} became {ElementTypes.Name(next.ElementType)}{Dim.Format(next.Shape)}", "Loop");
                var nextCondition = Ops.Lift(graph, condition(Value.Symbolic(next)));
                RequireBoolScalar(graph, nextCondition, "Loop");
                return [nextCondition, next];
            });
        var limit = maxIterations is { } m ? graph.Constant(HostTensor.Create([m])) : null;
        return Value.Symbolic(graph.Node("Loop").OptionalInput(limit).Input(firstCondition, start).Attribute("body", bodyGraph)
            .Output(start.ElementType, start.Shape));
    }

    /// <summary>
    /// <c>condition ? then() : otherwise()</c> on a bool scalar value. Both branches must give the
    /// same element type; where their shapes differ, the result's dimension is unknown.
    /// </summary>
    public static Value If(Value condition, Func<Value> then, Func<Value> otherwise)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(then);
        ArgumentNullException.ThrowIfNull(otherwise);
        if (!condition.IsSymbolic && GraphRecorder.Current is null) return IsTrue(condition) ? then() : otherwise();

        var graph = GraphRecorder.Current ?? condition.Symbol.Graph;
        var test = Ops.Lift(graph, condition);
        RequireBoolScalar(graph, test, "If");
        SymbolicTensor? thenResult = null, elseResult = null;
        var thenGraph = graph.RecordSubgraph("If_then", [], _ => [thenResult = Ops.Lift(graph, then())]);
        var elseGraph = graph.RecordSubgraph("If_else", [], _ => [elseResult = Ops.Lift(graph, otherwise())]);
        if (thenResult!.ElementType != elseResult!.ElementType)
            throw graph.Error($"If branches give different element types: {ElementTypes.Name(thenResult.ElementType)} and {ElementTypes.Name(elseResult.ElementType)}", "If");
        var shape = thenResult.Shape.Count == elseResult.Shape.Count
            ? thenResult.Shape.Zip(elseResult.Shape, (a, b) => a == b ? a : Dim.Unknown).ToArray()
            : throw graph.Error($"If branches give different ranks: {Dim.Format(thenResult.Shape)} and {Dim.Format(elseResult.Shape)}", "If");
        return Value.Symbolic(graph.Node("If").Input(test).Attribute("then_branch", thenGraph).Attribute("else_branch", elseGraph)
            .Output(thenResult.ElementType, shape));
    }

    private static bool IsTrue(Value condition) => condition.Item() != 0;

    private static bool SameShape(IReadOnlyList<Dim> a, IReadOnlyList<Dim> b) => a.Count == b.Count && a.Zip(b).All(p => p.First == p.Second);

    private static void RequireBoolScalar(GraphRecorder graph, SymbolicTensor condition, string op)
    {
        if (condition.ElementType != DataType.Bool || condition.Shape.Count != 0)
            throw graph.Error($"the condition must be a bool scalar (e.g. x.Abs().Sum() > 1), got {ElementTypes.Name(condition.ElementType)}{Dim.Format(condition.Shape)}", op);
    }
}
