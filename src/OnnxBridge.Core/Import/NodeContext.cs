using System.Globalization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using static TorchSharp.torch;
using AttributeType = OnnxBridge.Onnx.Proto.AttributeProto.Types.AttributeType;

namespace OnnxBridge.Core.Import;

/// <summary>
/// One node being replayed: its inputs as values, its attributes read with ONNX's defaults, the
/// opset it was written against (attribute forms change between versions), and errors that name it.
/// </summary>
internal sealed class NodeContext
{
    private readonly IReadOnlyList<Value?> _inputs;

    public NodeContext(NodeProto node, int opset, IReadOnlyList<Value?> inputs, bool training, Func<GraphProto, IReadOnlyList<Value>, IReadOnlyList<Value>> runSubgraph)
    {
        Node = node;
        Opset = opset;
        _inputs = inputs;
        Training = training;
        RunSubgraph = runSubgraph;
    }

    public NodeProto Node { get; }

    /// <summary>The version of the default ONNX domain the model imports.</summary>
    public int Opset { get; }

    /// <summary>Whether the block is in training mode (Dropout drops; everything else ignores it).</summary>
    public bool Training { get; }

    /// <summary>Replays a subgraph (If's branches, Loop's body) in the scope of this node with its inputs bound to the values given; returns its outputs.</summary>
    public Func<GraphProto, IReadOnlyList<Value>, IReadOnlyList<Value>> RunSubgraph { get; }

    public int InputCount => _inputs.Count;

    /// <summary>How many outputs the node names (an empty name is an output not asked for).</summary>
    public int OutputsWanted => Node.Output.Count(o => o.Length > 0);

    public Value Input(int index) =>
        OptionalInput(index) ?? throw Error($"input {index} is required but not given");

    public Value? OptionalInput(int index) => index < _inputs.Count ? _inputs[index] : null;

    /// <summary>Every given input, for the variadic ops (Sum, Max, Concat).</summary>
    public IReadOnlyList<Value> AllInputs => [.. _inputs.Select((v, i) => v ?? throw Error($"input {i} is empty"))];

    /// <summary>
    /// An input that must be known when the node runs (shapes, axes, pads): eagerly every input is;
    /// during export only initializers, constants and what is computed from them alone are.
    /// </summary>
    public long[]? ConstantInts(int index)
    {
        if (OptionalInput(index) is not { } value) return null;
        if (value.IsSymbolic) throw Error($"input {index} ('{Node.Input[index]}') must be a constant (an initializer, a Constant node or computed from them) to export this node; it is computed from the graph's inputs");
        using var cpu = value.Tensor.detach().cpu().to(ScalarType.Int64);
        return cpu.data<long>().ToArray();
    }

    /// <summary>A floating-point input that must be known when the node runs (Resize's scales); null when not given or empty.</summary>
    public double[]? ConstantFloats(int index)
    {
        if (OptionalInput(index) is not { } value) return null;
        if (value.IsSymbolic) throw Error($"input {index} ('{Node.Input[index]}') must be a constant to export this node");
        using var cpu = value.Tensor.detach().cpu().to(ScalarType.Float64);
        return cpu.NumberOfElements == 0 ? null : cpu.data<double>().ToArray();
    }

    /// <summary>A float input that must be known when the node runs (Clip bounds, Pad's value).</summary>
    public double? ConstantScalar(int index)
    {
        if (OptionalInput(index) is not { } value) return null;
        if (value.IsSymbolic) throw Error($"input {index} ('{Node.Input[index]}') must be a constant to export this node");
        if (value.Tensor.NumberOfElements != 1) throw Error($"input {index} ('{Node.Input[index]}') must hold one value, it has shape {Dim.Format(value.Shape)}");
        return value.Item();
    }

    public AttributeProto? Attribute(string name) => Node.Attribute.FirstOrDefault(a => a.Name == name);

    public long Int(string name, long fallback) => Attribute(name) is { } a ? Expect(a, AttributeType.Int).I : fallback;

    public double Float(string name, double fallback) => Attribute(name) is { } a ? Expect(a, AttributeType.Float).F : fallback;

    public string String(string name, string fallback) => Attribute(name) is { } a ? Expect(a, AttributeType.String).S.ToStringUtf8() : fallback;

    public long[]? Ints(string name) => Attribute(name) is { } a ? [.. Expect(a, AttributeType.Ints).Ints] : null;

    public double[]? Floats(string name) => Attribute(name) is { } a ? [.. Expect(a, AttributeType.Floats).Floats.Select(f => (double)f)] : null;

    public GraphProto Graph(string name) => Attribute(name) is { } a ? Expect(a, AttributeType.Graph).G : throw Error($"attribute '{name}' is required");

    /// <summary>Refuses an attribute whose value this import does not implement, naming it.</summary>
    public void Require(bool supported, string what)
    {
        if (!supported) throw Error(what + " is not supported");
    }

    public OnnxImportException Error(string problem) =>
        new($"node '{Describe(Node)}' ({Node.OpType}, opset {Opset}): {problem}");

    public static string Describe(NodeProto node) =>
        node.Name.Length > 0 ? node.Name : $"{node.OpType} → {string.Join(", ", node.Output)}";

    private AttributeProto Expect(AttributeProto attribute, AttributeType type) =>
        attribute.Type == type || attribute.Type == AttributeType.Undefined ? attribute
            : throw Error($"attribute '{attribute.Name}' is {attribute.Type}, expected {type}");

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"{Node.OpType} '{Describe(Node)}'");
}
