using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Export;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Tracing;

/// <summary>
/// Records the ONNX nodes that a symbolic run of a block's forward produces. While a recorder is
/// active on a thread, blocks resolve their parameters to initializers (named by state-dict key, so a
/// tied parameter is one initializer) and every operation on a symbolic value appends a node named
/// after the block path it ran in (<c>/0/Gemm</c>, as PyTorch's exporter names them).
/// </summary>
internal sealed class GraphRecorder
{
    [ThreadStatic] private static GraphRecorder? t_current;

    private readonly Block _root;
    private readonly Dictionary<nn.Module, string> _modulePaths = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, string> _stateKeys = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Tensor, SymbolicTensor> _initializers = new(ReferenceEqualityComparer.Instance);
    private readonly List<(string Key, Tensor Tensor)> _usedInitializers = [];
    private readonly Stack<List<NodeProto>> _frames = new();
    private readonly List<(string Path, Block Block, IReadOnlyList<Dim> Shape)> _blockOutputs = [];
    private readonly HashSet<string> _names = new(StringComparer.Ordinal);
    private readonly Stack<string> _scopes = new();

    /// <param name="opset">The ONNX opset the graph targets; ops whose form changed between opsets emit the right one.</param>
    public GraphRecorder(Block root, int opset)
    {
        _root = root;
        Opset = opset;
        _frames.Push([]);
        _modulePaths[root] = "";
        foreach (var (name, module) in root.named_modules())
            _modulePaths.TryAdd(module, name);
        RefreshStateKeys();
    }

    /// <summary>The ONNX opset of the default domain that the graph targets.</summary>
    public int Opset { get; }

    /// <summary>Starts a node of <paramref name="opType"/>; see <see cref="OnnxNode"/>.</summary>
    public OnnxNode Node(string opType) => new(this, opType);

    /// <summary>The recorder active on this thread, if an export or build is running.</summary>
    public static GraphRecorder? Current => t_current;

    /// <summary>The main graph's nodes (subgraph nodes live in their Loop or If node's attributes).</summary>
    public IReadOnlyList<NodeProto> Nodes => _frames.Last();

    /// <summary>Every block call recorded so far: its path, the block and its output shape, in call order.</summary>
    public IReadOnlyList<(string Path, Block Block, IReadOnlyList<Dim> Shape)> BlockOutputs => _blockOutputs;

    /// <summary>Parameters and buffers the graph uses, with their state-dict keys, in first-use order.</summary>
    public IReadOnlyList<(string Key, Tensor Tensor)> UsedInitializers => _usedInitializers;

    /// <summary>The state-dict path of the block whose forward is running ("" for the root).</summary>
    public string CurrentPath => _scopes.Count > 0 ? _scopes.Peek() : "";

    /// <summary>Makes this recorder current on this thread until the result is disposed.</summary>
    public IDisposable Activate()
    {
        if (t_current is not null) throw new InvalidOperationException("a graph is already being recorded on this thread");
        t_current = this;
        return new Scope(() => t_current = null);
    }

    /// <summary>Enters a block's forward: node names and errors inside carry its path.</summary>
    public IDisposable EnterBlock(Block block)
    {
        if (!_modulePaths.TryGetValue(block, out var path))
            throw Error($"a {block.GetType().Name} block is called in forward but is not registered as a child, " +
                        "so its parameters would be missing from the state dict; register it (Register(\"name\", block) " +
                        "or a field plus RegisterComponents()) before using it");
        _scopes.Push(path);
        return new Scope(() => _scopes.Pop());
    }

    /// <summary>Notes the output of a block call, for summaries.</summary>
    public void RecordBlockOutput(Block block, Value output) => _blockOutputs.Add((CurrentPath, block, output.Shape));

    /// <summary>Declares a graph input.</summary>
    public SymbolicTensor AddInput(string name, DataType type, IReadOnlyList<Dim> shape)
    {
        if (!_names.Add(name)) throw Error($"the graph already has a value named '{name}'");
        return new SymbolicTensor(this, _frames.Peek(), name, type, shape);
    }

    /// <summary>
    /// Records a subgraph (the body of a Loop, a branch of an If): <paramref name="build"/> receives
    /// its inputs and returns its outputs; nodes recorded meanwhile belong to the subgraph. Values of
    /// the enclosing graphs may be used inside (ONNX's outer-scope references); values made inside
    /// cannot escape.
    /// </summary>
    public GraphProto RecordSubgraph(string name, IReadOnlyList<(string Name, DataType Type, IReadOnlyList<Dim> Shape)> inputs,
                                     Func<SymbolicTensor[], SymbolicTensor[]> build)
    {
        var frame = new List<NodeProto>();
        _frames.Push(frame);
        try
        {
            var graph = new GraphProto { Name = UniqueName(NodePrefix() + name) };
            var symbols = inputs.Select(i => new SymbolicTensor(this, frame, UniqueName($"{graph.Name}/{i.Name}"), i.Type, i.Shape)).ToArray();
            graph.Input.AddRange(symbols.Select(ValueInfos.Of));
            var outputs = build(symbols);
            foreach (var output in outputs)
            {
                // A subgraph output must be computed inside it: pass anything else through an Identity.
                var produced = frame.Any(n => n.Output.Contains(output.Name));
                var named = produced ? output : Node("Identity").Input(output).Output(output.ElementType, output.Shape);
                graph.Output.Add(ValueInfos.Of(named));
            }
            graph.Node.AddRange(frame);
            return graph;
        }
        finally
        {
            _frames.Pop();
        }
    }

    /// <summary>
    /// The symbolic counterpart of an eager tensor met during recording: a parameter or buffer
    /// becomes an initializer named by its state-dict key; any other tensor becomes a Constant node.
    /// </summary>
    public SymbolicTensor UseTensor(Tensor tensor)
    {
        if (_initializers.TryGetValue(tensor, out var known)) return known;
        if (!_stateKeys.ContainsKey(tensor)) RefreshStateKeys(); // parameters materialized during this trace
        if (_stateKeys.TryGetValue(tensor, out var key))
        {
            if (!_names.Add(key))
                throw Error($"the state-dict key '{key}' is already the name of another graph value (an input?); rename one of them");
            var symbol = new SymbolicTensor(this, _frames.Last(), key, DTypes.ToOnnx(tensor.dtype), tensor.shape.Select(Dim.Known).ToArray());
            _initializers[tensor] = symbol;
            _usedInitializers.Add((key, tensor));
            return symbol;
        }
        return Constant(TensorConvert.ToHost(tensor));
    }

    /// <summary>The empty name ONNX uses for an omitted optional input.</summary>
    public SymbolicTensor Absent() => new(this, _frames.Peek(), "", DataType.Undefined, []);

    /// <summary>Appends a Constant node holding <paramref name="value"/>.</summary>
    public SymbolicTensor Constant(HostTensor value) =>
        Node("Constant").Attribute("value", value).Output(value.ElementType, value.Shape.Select(Dim.Known).ToArray());

    /// <summary>Appends a node and returns its outputs, typed and shaped as the caller inferred; ops use <see cref="Node"/>.</summary>
    internal SymbolicTensor[] AddNode(
        string opType,
        IReadOnlyList<SymbolicTensor> inputs,
        IReadOnlyList<(DataType Type, IReadOnlyList<Dim> Shape)> outputs,
        IEnumerable<AttributeProto>? attributes = null)
    {
        foreach (var input in inputs)
        {
            if (!ReferenceEquals(input.Graph, this))
                throw Error("a value from another export or build was used in this one", opType);
            if (!_frames.Contains(input.Frame))
                throw Error($"value '{input.Name}' was computed inside a While body or If branch and cannot be used outside it; return it from the body instead", opType);
        }
        var nodeName = UniqueName(NodePrefix() + opType);
        var node = new NodeProto { Name = nodeName, OpType = opType };
        node.Input.AddRange(inputs.Select(i => i.Name));
        if (attributes is not null) node.Attribute.AddRange(attributes);
        var results = new SymbolicTensor[outputs.Count];
        for (int i = 0; i < outputs.Count; i++)
        {
            var outputName = UniqueName($"{nodeName}_output_{i}");
            node.Output.Add(outputName);
            results[i] = new SymbolicTensor(this, _frames.Peek(), outputName, outputs[i].Type, outputs[i].Shape);
        }
        _frames.Peek().Add(node);
        return results;
    }

    /// <summary>An <see cref="ExportException"/> that names the current block path and, optionally, the op.</summary>
    public ExportException Error(string message, string? op = null) => new(message, CurrentPath, op);

    /// <summary>The error for reading tensor data while a graph is being recorded.</summary>
    public static ExportException DataAccessDuringExport(string member)
    {
        var advice = member == nameof(Value.Tensor)
            ? "To run raw TorchSharp code, wrap it in Ops.Custom with a lowering written in Value operations; otherwise keep values as Value."
            : "Express data-dependent control flow with the graph combinators (While, If) and keep values as Value.";
        var message = $"forward reads tensor data ({member}) while the graph is being recorded; data does not exist at export time. {advice}";
        return t_current is { } recorder ? recorder.Error(message) : new ExportException(message);
    }

    private string NodePrefix() => CurrentPath.Length == 0 ? "/" : "/" + CurrentPath.Replace('.', '/') + "/";

    private string UniqueName(string name)
    {
        if (_names.Add(name)) return name;
        for (int n = 1; ; n++)
        {
            var candidate = $"{name}_{n}";
            if (_names.Add(candidate)) return candidate;
        }
    }

    private void RefreshStateKeys()
    {
        foreach (var (key, parameter) in _root.named_parameters())
            _stateKeys.TryAdd(parameter, key);
        foreach (var (key, buffer) in _root.NamedBuffers(includeNonPersistent: true))
            _stateKeys.TryAdd(buffer, key);
    }

    private sealed class Scope(Action onDispose) : IDisposable
    {
        private Action? _onDispose = onDispose;

        public void Dispose()
        {
            _onDispose?.Invoke();
            _onDispose = null;
        }
    }
}
