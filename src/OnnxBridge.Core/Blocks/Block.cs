using OnnxBridge.Core.Export;
using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

/// <summary>
/// The unit networks are made of: a TorchSharp module (so parameters(), state_dict(), train()/eval(),
/// to(device) and the optimizers work unchanged) whose forward is written once against
/// <see cref="Value"/> and therefore both runs in TorchSharp and exports to ONNX.
/// </summary>
/// <remarks>
/// Subclasses implement <see cref="Forward"/>, call children through <see cref="Call"/>, and read
/// their own parameters and buffers through <see cref="Use"/>. Children are registered with
/// <see cref="Register{T}"/> (or held in fields and registered by <c>RegisterComponents()</c>
/// under the field's name, as PyTorch registers attributes); the registration name is the
/// state-dict key prefix, as in PyTorch.
/// </remarks>
public abstract partial class Block : nn.Module<Tensor, Tensor>
{
    /// <param name="name">The block's type name, shown in structure prints.</param>
    protected Block(string name) : base(name) { }

    /// <summary>TorchSharp's entry point: runs <see cref="Forward"/> eagerly on a tensor.</summary>
    /// <exception cref="ForwardException">An operation refused its operands; the message names the block path, the op and the shapes.</exception>
    public sealed override Tensor forward(Tensor input)
    {
        ArgumentNullException.ThrowIfNull(input);
        try
        {
            return Call(Value.Eager(input)).Tensor;
        }
        catch (ForwardException e) when (e.BlockPath is null)
        {
            throw e.At(PathOf(e.Block));
        }
    }

    /// <summary>Runs this block on a value: eagerly, or recorded into the graph being exported.</summary>
    public Value Call(Value input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return InScope(() => [Forward(input)])[0];
    }

    /// <summary>
    /// Runs a forward of this block as <see cref="Call"/> runs <see cref="Forward"/>: inside this
    /// block's scope of the graph being recorded (node names, block outputs), or eagerly with an
    /// operation's refusal naming this block. For forwards that take more than one input — the masks
    /// of attention, the memory of a decoder.
    /// </summary>
    protected IReadOnlyList<Value> InScope(Func<IReadOnlyList<Value>> forward)
    {
        ArgumentNullException.ThrowIfNull(forward);
        if (GraphRecorder.Current is not { } graph)
        {
            try
            {
                return forward();
            }
            catch (ForwardException e) when (e.Block is null)
            {
                e.Block = this; // the innermost block: the root's forward turns it into a path
                throw;
            }
        }
        using (graph.EnterBlock(this))
        {
            var outputs = forward();
            foreach (var output in outputs) graph.RecordBlockOutput(this, output);
            return outputs;
        }
    }

    /// <summary>
    /// True once every parameter in this block and its children has a shape (deferred
    /// initialization: e.g. <c>Linear(10)</c> learns its input size on the first call or
    /// <see cref="Build(InputSpec)"/>).
    /// </summary>
    public bool IsBuilt => !UnbuiltBlockPaths().Any();

    /// <summary>The state-dict paths of blocks whose parameters are not materialized yet ("" for this block).</summary>
    public IEnumerable<string> UnbuiltBlockPaths()
    {
        if (HasPendingParameters) yield return "";
        foreach (var (path, module) in named_modules())
        {
            if (module is Block { HasPendingParameters: true }) yield return path;
        }
    }

    /// <summary>
    /// Materializes deferred parameters from an input description alone, without data: runs the
    /// forward symbolically and returns the output shape (Keras's <c>model.build(input_shape)</c>; the
    /// first output's, for a <see cref="MultiOutputBlock"/>).
    /// </summary>
    /// <exception cref="ExportException">A shape does not fit; the message names the block path.</exception>
    public IReadOnlyList<Dim> Build(InputSpec input) => Build([input]);

    /// <summary>Like <see cref="Build(InputSpec)"/> for a <see cref="MultiInputBlock"/>: one spec per input, in order.</summary>
    public IReadOnlyList<Dim> Build(params InputSpec[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        using var noGrad = no_grad();
        var graph = new GraphRecorder(this, Export.ExportOptions.DefaultOpset); // shapes only: any opset gives the same
        using (graph.Activate())
        {
            return CallRootAll([.. inputs.Select(i => Value.Symbolic(graph.AddInput(i.Name, i.ElementType, i.Shape)))])[0].Shape;
        }
    }

    /// <summary>The state-dict path of <paramref name="block"/> below this one ("" for this block or an unknown one).</summary>
    private string PathOf(Block? block) =>
        block is null || ReferenceEquals(block, this) ? "" : named_modules().FirstOrDefault(m => ReferenceEquals(m.module, block)).name ?? "";

    /// <summary>
    /// Runs the forward eagerly on one tensor per input and returns every output, whatever the
    /// block's kind: one for a plain block or a <see cref="MultiInputBlock"/>, all of a
    /// <see cref="MultiOutputBlock"/>'s.
    /// </summary>
    public Tensor[] forward_all(params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        return [.. CallRootAll([.. inputs.Select(Value.Eager)]).Select(v => v.Tensor)];
    }

    /// <summary>Calls this block as the root of a trace with one value per declared input; every output, in order.</summary>
    internal IReadOnlyList<Value> CallRootAll(IReadOnlyList<Value> inputs) => this is MultiOutputBlock multi ? multi.CallAll(inputs) : [CallRoot(inputs)];

    /// <summary>Calls this block as the root of a trace with one value per declared input.</summary>
    private Value CallRoot(IReadOnlyList<Value> inputs) => this switch
    {
        MultiInputBlock multi => multi.Call(inputs),
        _ when inputs.Count == 1 => Call(inputs[0]),
        _ => throw new ExportException($"{GetType().Name} takes one input, but {inputs.Count} were declared; a block with several inputs derives from MultiInputBlock"),
    };

    /// <summary>The forward computation, written against <see cref="Value"/>.</summary>
    protected abstract Value Forward(Value input);

    /// <summary>
    /// A parameter or buffer of this block as a value: the tensor itself when running eagerly
    /// (autograd tracks it), an initializer named by its state-dict key when exporting.
    /// </summary>
    protected static Value Use(Tensor parameterOrBuffer)
    {
        ArgumentNullException.ThrowIfNull(parameterOrBuffer);
        return GraphRecorder.Current is { } graph ? Value.Symbolic(graph.UseTensor(parameterOrBuffer)) : Value.Eager(parameterOrBuffer);
    }

    /// <summary>Creates a trainable parameter from <paramref name="initial"/>, registers it under <paramref name="name"/> and returns it.</summary>
    protected Parameter RegisterParameter(string name, Tensor initial)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(initial);
        var parameter = new Parameter(initial);
        register_parameter(name, parameter);
        return parameter;
    }

    /// <summary>
    /// Registers a constant tensor (d2l's <c>rand_weight</c>): saved in the state dict when
    /// <paramref name="persistent"/>, exported as an initializer, never in <c>parameters()</c>, so no
    /// optimizer updates it.
    /// </summary>
    protected Tensor RegisterBuffer(string name, Tensor value, bool persistent = true)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(value);
        register_buffer(name, value, persistent);
        return value;
    }

    /// <summary>Registers a child under <paramref name="name"/> (its state-dict prefix) and returns it.</summary>
    protected T Register<T>(string name, T child) where T : nn.Module
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        ArgumentNullException.ThrowIfNull(child);
        register_module(name, child);
        return child;
    }

    /// <summary>True while this block's own parameters wait for their shapes (deferred initialization).</summary>
    protected internal virtual bool HasPendingParameters => false;

    /// <summary>For a deferred block read from an architecture file: the network's budget, charged before it materializes.</summary>
    internal Architecture.ParameterBudget? Budget { get; set; }

    /// <summary>Charges <paramref name="elements"/> (−1: past 2^63) to the architecture file's budget, if this block has one, before materializing.</summary>
    /// <exception cref="Architecture.ArchitectureException">The budget would be exceeded; <paramref name="what"/> says by what.</exception>
    protected void ChargeBudget(long elements, Func<string> what) => Budget?.Charge(elements, what);

    /// <summary>
    /// Deferred blocks override this to take their parameter shapes from a state dict being loaded,
    /// as PyTorch's lazy modules do. <paramref name="shapeOf"/> maps a local key (<c>weight</c>) to
    /// its shape in the file, or null. Returns every local key the block will then have, with its
    /// shape, or an error. Must not change the block: <see cref="MaterializeFromPlan"/> does that once
    /// the whole load has been checked.
    /// </summary>
    protected internal virtual (IReadOnlyDictionary<string, long[]>? Plan, string? Error) PlanMaterialization(Func<string, IReadOnlyList<long>?> shapeOf) =>
        (null, $"{GetType().Name} cannot take its parameter shapes from a state dict; call Build(input) first");

    /// <summary>Materializes the parameters planned by <see cref="PlanMaterialization"/>, uninitialized (the load fills them).</summary>
    protected internal virtual void MaterializeFromPlan(IReadOnlyDictionary<string, long[]> plan) =>
        throw new NotSupportedException($"{GetType().Name} has no deferred parameters");
}
