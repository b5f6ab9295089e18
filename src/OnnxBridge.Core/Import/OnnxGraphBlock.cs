using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Import;

/// <summary>
/// An imported ONNX graph as a block: its forward replays the nodes in order through the op layer,
/// so it trains eagerly in TorchSharp and records the same operations when exported. Float
/// initializers are trainable parameters; integer and bool initializers, BatchNormalization's
/// running statistics and initializers feeding only constant inputs (shapes, axes, pads) are
/// buffers. Each keeps its initializer's name as its state-dict key (see <see cref="OnnxImporter"/>).
/// </summary>
public sealed class OnnxGraphBlock : MultiOutputBlock
{
    private readonly GraphProto _graph;
    private readonly int _opset;
    private readonly IReadOnlyList<(string Name, Tensor Tensor, bool Trainable)> _initializers;
    /// <summary>Constant nodes' and subgraph initializers' tensors, by device, then by the proto they come from (by reference: hashing a proto reads all of it).</summary>
    private readonly Dictionary<string, Dictionary<object, Tensor>> _constants = [];
    private Device? _inputDevice;

    internal OnnxGraphBlock(GraphProto graph, int opset, IReadOnlyList<InputSpec> inputs, IReadOnlyList<string> outputNames,
        IReadOnlyList<(string Name, string Key, HostTensor Value, bool Trainable)> initializers)
        : base("OnnxGraph")
    {
        _graph = graph;
        _opset = opset;
        Inputs = inputs;
        OutputNames = outputNames;
        var registered = new List<(string, Tensor, bool)>();
        foreach (var (name, key, value, trainable) in initializers)
        {
            var owner = OwnerOf(key, out var local);
            // Owned by the block for its lifetime, whatever dispose scope the import runs in.
            var tensor = TensorConvert.ToTorch(value).DetachFromDisposeScope();
            registered.Add((name, trainable ? owner.AddParameter(local, tensor) : owner.AddBuffer(local, tensor), trainable));
        }
        _initializers = registered;
    }

    /// <summary>The graph's inputs (initializers excluded), with their names, element types and dimensions (symbolic ones named).</summary>
    public IReadOnlyList<InputSpec> Inputs { get; }

    /// <summary>The graph's output names, in order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The opset of the default ONNX domain the model was written against.</summary>
    public int Opset => _opset;

    /// <summary>The graph this block replays.</summary>
    internal GraphProto Graph => _graph;

    /// <inheritdoc/>
    public override int InputCount => Inputs.Count;

    /// <inheritdoc/>
    public override int OutputCount => OutputNames.Count;

    /// <summary>Export options that keep the imported model's input and output names and dimensions.</summary>
    public Export.ExportOptions ExportOptions() =>
        new(Inputs[0], [.. Inputs.Skip(1)]) { OutputNames = OutputNames };

    /// <inheritdoc/>
    protected override IReadOnlyList<Value> ForwardAll(IReadOnlyList<Value> inputs)
    {
        var scope = new Dictionary<string, Value>(StringComparer.Ordinal);
        for (int i = 0; i < inputs.Count; i++) scope[Inputs[i].Name] = inputs[i];
        _inputDevice = inputs.FirstOrDefault(v => !v.IsSymbolic)?.Tensor.device;
        foreach (var (name, tensor, trainable) in _initializers)
        {
            // Buffers stay eager during export, so shape-like inputs remain readable constants and
            // what is computed from them folds; the recorder names them by key where they are used.
            scope[name] = trainable ? Use(tensor) : Value.Eager(tensor);
        }
        Run(_graph, scope);
        return [.. OutputNames.Select(name => scope.TryGetValue(name, out var v) ? v
            : throw new OnnxImportException($"graph output '{name}' is not computed by any node"))];
    }

    /// <summary>Runs <paramref name="graph"/>'s nodes in order, adding each output to <paramref name="scope"/>.</summary>
    private void Run(GraphProto graph, Dictionary<string, Value> scope)
    {
        foreach (var init in graph.Initializer.Where(i => !scope.ContainsKey(i.Name)))
            scope[init.Name] = Constant(init, () => HostTensor.FromProto(init));
        foreach (var node in graph.Node)
        {
            var inputs = node.Input.Select(name => name.Length == 0 ? null
                : scope.TryGetValue(name, out var v) ? v
                : throw new OnnxImportException($"node '{NodeContext.Describe(node)}' ({node.OpType}) reads '{name}', which no input, initializer or earlier node gives")).ToList();
            var context = new NodeContext(node, _opset, inputs, training, (sub, bound) =>
            {
                var inner = new Dictionary<string, Value>(scope, StringComparer.Ordinal);
                if (bound.Count != sub.Input.Count) throw new OnnxImportException($"node '{NodeContext.Describe(node)}' ({node.OpType}): its subgraph '{sub.Name}' takes {sub.Input.Count} inputs, {bound.Count} given");
                for (int k = 0; k < bound.Count; k++) inner[sub.Input[k].Name] = bound[k];
                Run(sub, inner);
                return [.. sub.Output.Select(o => inner[o.Name])];
            });
            var outputs = node.OpType == "Constant" ? [Constant(node, () => ConstantValue(context))] : OpTranslators.Translate(context);
            for (int i = 0; i < node.Output.Count; i++)
            {
                if (node.Output[i].Length == 0) continue;
                if (i >= outputs.Count) throw context.Error($"output {i} ('{node.Output[i]}') is not supported");
                scope[node.Output[i]] = outputs[i];
            }
        }
    }

    /// <summary>
    /// A Constant node's or a subgraph initializer's value: an eager tensor (folded into whatever uses
    /// only constants), made once per device and reused by every forward and every Loop iteration.
    /// </summary>
    private Value Constant(object source, Func<HostTensor> make)
    {
        // Where the block's weights live (or, without weights, its eager inputs): constants join them there.
        var device = _initializers.Count > 0 ? _initializers[0].Tensor.device : _inputDevice ?? CPU;
        if (!_constants.TryGetValue(device.ToString(), out var onDevice))
            _constants[device.ToString()] = onDevice = new Dictionary<object, Tensor>(ReferenceEqualityComparer.Instance);
        if (!onDevice.TryGetValue(source, out var tensor))
            // Cached across forwards, so out of the dispose scope a training step runs in.
            onDevice[source] = tensor = TensorConvert.ToTorch(make()).to(device).DetachFromDisposeScope();
        return Value.Eager(tensor);
    }

    private static HostTensor ConstantValue(NodeContext n)
    {
        if (n.Attribute("value") is { } value) return HostTensor.FromProto(value.T);
        if (n.Attribute("value_float") is not null) return HostTensor.Create<float>([(float)n.Float("value_float", 0)]);
        if (n.Attribute("value_int") is not null) return HostTensor.Create<long>([n.Int("value_int", 0)]);
        if (n.Floats("value_floats") is { } floats) return HostTensor.Create<float>([.. floats.Select(f => (float)f)], floats.Length);
        if (n.Ints("value_ints") is { } ints) return HostTensor.Create<long>(ints, ints.Length);
        throw n.Error($"only tensor, float and int constants are supported (has {string.Join(", ", n.Node.Attribute.Select(a => a.Name))})");
    }

    /// <summary>The holder of state-dict key <paramref name="key"/>: this block or a nested group, one per dotted prefix.</summary>
    private InitializerGroup OwnerOf(string key, out string local)
    {
        var parts = key.Split('.');
        local = parts[^1];
        InitializerGroup? group = null;
        foreach (var part in parts[..^1])
            group = group is null ? Root.Group(part) : group.Group(part);
        return group ?? Root;
    }

    private InitializerGroup? _root;

    /// <summary>This block's own registry for parameters without a dotted prefix.</summary>
    private InitializerGroup Root => _root ??= new InitializerGroup(this);

    /// <summary>
    /// Registers parameters and buffers at one level of the key tree: on the graph block itself
    /// (the root) or on a child block named by a key prefix ("0" in "0.weight").
    /// </summary>
    private sealed class InitializerGroup
    {
        private readonly OnnxGraphBlock? _block;
        private readonly Group? _group;
        private readonly Dictionary<string, InitializerGroup> _children = new(StringComparer.Ordinal);

        public InitializerGroup(OnnxGraphBlock block) => _block = block;

        private InitializerGroup(Group group) => _group = group;

        public InitializerGroup Group(string name)
        {
            if (!_children.TryGetValue(name, out var child))
            {
                var group = new Group();
                if (_block is not null) _block.Register(name, group);
                else _group!.Add(name, group);
                _children[name] = child = new InitializerGroup(group);
            }
            return child;
        }

        public Tensor AddParameter(string name, Tensor value) =>
            _block is not null ? _block.RegisterParameter(name, value) : _group!.AddParameter(name, value);

        public Tensor AddBuffer(string name, Tensor value) =>
            _block is not null ? _block.RegisterBuffer(name, value) : _group!.AddBuffer(name, value);
    }

    /// <summary>A child holding the parameters under one key prefix; it computes nothing itself.</summary>
    private sealed class Group : Block
    {
        public Group() : base("ParameterGroup") { }

        public void Add(string name, Block child) => Register(name, child);

        public Tensor AddParameter(string name, Tensor value) => RegisterParameter(name, value);

        public Tensor AddBuffer(string name, Tensor value) => RegisterBuffer(name, value);

        protected override Value Forward(Value input) =>
            throw new InvalidOperationException("a parameter group of an imported graph holds weights; the graph block runs them");
    }
}
