using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using AttributeType = OnnxBridge.Onnx.Proto.AttributeProto.Types.AttributeType;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Tracing;

/// <summary>
/// One ONNX node being emitted, with typed inputs and attributes: every operation in
/// <see cref="Ops"/> emits through this, so attributes are built one way and an op's ONNX form is
/// readable where the op is defined. Obtained from <see cref="GraphRecorder.Node"/>; nothing is
/// recorded until <see cref="Output"/> or <see cref="Outputs"/>.
/// </summary>
internal sealed class OnnxNode
{
    private readonly GraphRecorder _graph;
    private readonly List<SymbolicTensor> _inputs = [];
    private readonly List<AttributeProto> _attributes = [];

    internal OnnxNode(GraphRecorder graph, string opType)
    {
        _graph = graph;
        OpType = opType;
    }

    /// <summary>The ONNX operator, e.g. <c>Gemm</c>.</summary>
    public string OpType { get; }

    /// <summary>The opset being targeted, for ops whose form changed (axes as an input from 13 or 18).</summary>
    public int Opset => _graph.Opset;

    /// <summary>Appends inputs in order.</summary>
    public OnnxNode Input(params SymbolicTensor[] inputs)
    {
        _inputs.AddRange(inputs);
        return this;
    }

    /// <summary>Appends an optional input; null leaves it out — as the empty name, unless it is the last (then it is dropped).</summary>
    public OnnxNode OptionalInput(SymbolicTensor? input)
    {
        _inputs.Add(input ?? _graph.Absent());
        return this;
    }

    /// <summary>An <c>int64[]</c> input made from constants (axes, shapes, pads), as opsets 13+ take them.</summary>
    public OnnxNode ConstantInput(params long[] values)
    {
        _inputs.Add(_graph.Constant(HostTensor.Create<long>(values, values.Length)));
        return this;
    }

    public OnnxNode Attribute(string name, long value) => Add(new AttributeProto { Name = name, Type = AttributeType.Int, I = value });

    public OnnxNode Attribute(string name, float value) => Add(new AttributeProto { Name = name, Type = AttributeType.Float, F = value });

    public OnnxNode Attribute(string name, string value) =>
        Add(new AttributeProto { Name = name, Type = AttributeType.String, S = Google.Protobuf.ByteString.CopyFromUtf8(value) });

    public OnnxNode Attribute(string name, IEnumerable<long> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Ints };
        attribute.Ints.AddRange(values);
        return Add(attribute);
    }

    public OnnxNode Attribute(string name, IEnumerable<string> values)
    {
        var attribute = new AttributeProto { Name = name, Type = AttributeType.Strings };
        attribute.Strings.AddRange(values.Select(Google.Protobuf.ByteString.CopyFromUtf8));
        return Add(attribute);
    }

    public OnnxNode Attribute(string name, GraphProto graph) => Add(new AttributeProto { Name = name, Type = AttributeType.Graph, G = graph });

    public OnnxNode Attribute(string name, HostTensor value) => Add(new AttributeProto { Name = name, Type = AttributeType.Tensor, T = value.ToProto("") });

    /// <summary>
    /// Axes for the ops that took them as an attribute and, from <paramref name="inputSinceOpset"/>,
    /// take them as an int64 input instead (ReduceSum and Squeeze/Unsqueeze from 13, the other
    /// reductions from 18).
    /// </summary>
    public OnnxNode Axes(IReadOnlyList<long> axes, int inputSinceOpset) =>
        Opset >= inputSinceOpset ? ConstantInput([.. axes]) : Attribute("axes", axes);

    /// <summary>Records the node with one output of the given type and shape.</summary>
    public SymbolicTensor Output(DataType type, IReadOnlyList<Dim> shape) => Outputs((type, shape))[0];

    /// <summary>Records the node with several outputs.</summary>
    public SymbolicTensor[] Outputs(params (DataType Type, IReadOnlyList<Dim> Shape)[] outputs)
    {
        // Trailing omitted optional inputs are dropped, as ONNX writers do.
        var count = _inputs.Count;
        while (count > 0 && _inputs[count - 1].Name.Length == 0) count--;
        foreach (var type in _inputs.Take(count).Select(i => i.ElementType).Concat(outputs.Select(o => o.Type)).Distinct())
        {
            if (HalfPrecisionSupport.Problem(OpType, Opset, type) is { } problem) throw _graph.Error(problem, OpType);
        }
        return _graph.AddNode(OpType, _inputs.Take(count).ToList(), outputs, _attributes);
    }

    private OnnxNode Add(AttributeProto attribute)
    {
        _attributes.Add(attribute);
        return this;
    }
}
