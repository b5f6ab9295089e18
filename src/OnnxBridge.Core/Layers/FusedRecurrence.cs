using TorchSharp;
using static TorchSharp.torch;
using Parameter = TorchSharp.Modules.Parameter;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// libtorch's own recurrence (TorchSharp's native <c>nn.LSTM</c>, <c>nn.GRU</c>, <c>nn.RNN</c>) for a
/// <see cref="RecurrentLayer"/>'s eager forward. The layer registers this module's parameter objects
/// as its own, so gradients, optimizer steps, in-place initialization and state-dict loads (which
/// <c>set_</c> the target) all reach the native module: they are the same tensors.
/// Why: the step-by-step recurrence (<see cref="Values.Ops.Lstm"/>) runs several ops per step and
/// layer, each a P/Invoke and an autograd node, and trained 1.2–3.7× slower than libtorch's kernel.
/// The export records the step-by-step form, which the <see cref="Values.Ops"/> functions compute eagerly.
/// A conversion replaces the parameters, so the layer then adopts a new native module.
/// Not registered as a child (a plain field of a non-module type), so it is in no state dict.
/// </summary>
internal sealed class FusedRecurrence : IDisposable
{
    private readonly nn.Module _module;
    private bool _training;

    private FusedRecurrence(nn.Module module, IReadOnlyList<(string Name, Parameter Parameter)> parameters)
    {
        _module = module;
        _training = module.training;
        Parameters = parameters;
    }

    /// <summary>The native module's parameters by their PyTorch names, in its (and PyTorch's) order.</summary>
    public IReadOnlyList<(string Name, Parameter Parameter)> Parameters { get; }

    /// <summary>
    /// A native module made by <paramref name="create"/> (on the CPU, float32), converted to the type
    /// and device of <paramref name="values"/> and holding copies of them (and their requires_grad).
    /// The global random generator is left as it was: the native constructor draws its own initial
    /// values, which the copies replace, and must not shift the draws of the layers built after it.
    /// </summary>
    public static FusedRecurrence Create(Func<nn.Module> create, IReadOnlyDictionary<string, Parameter> values)
    {
        var first = values.Values.First();
        var state = get_rng_state();
        nn.Module module;
        try
        {
            module = create();
        }
        finally
        {
            set_rng_state(state);
            state.Dispose();
        }
        module.to(first.device, first.dtype); // native conversion: the parameter objects stay
        var parameters = module.named_parameters().ToList();
        if (parameters.Count != values.Count || parameters.Any(p => !values.ContainsKey(p.name)))
            throw new InvalidOperationException($"the native module's parameters ({string.Join(", ", parameters.Select(p => p.name))}) are not the layer's ({string.Join(", ", values.Keys)})");
        using (no_grad())
        {
            foreach (var (name, parameter) in parameters)
            {
                parameter.copy_(values[name]);
                parameter.requires_grad = values[name].requires_grad;
            }
        }
        return new FusedRecurrence(module, parameters);
    }

    /// <summary>The forward from <paramref name="states"/> (h_0, and c_0 for an LSTM) or, when empty, zeros: the output, then h_n (and c_n for an LSTM), as PyTorch returns them.</summary>
    public Tensor[] Run(Tensor input, IReadOnlyList<Tensor> states, bool training)
    {
        if (_training != training)
        {
            _module.train(training); // dropout between layers only in training
            _training = training;
        }
        switch (_module)
        {
            case TorchSharp.Modules.LSTM lstm:
                var (output, hidden, cell) = lstm.forward(input, states.Count == 0 ? null : (states[0], states[1]));
                return [output, hidden, cell];
            case TorchSharp.Modules.GRU gru:
                var (gruOutput, gruHidden) = gru.forward(input, states.Count == 0 ? null : states[0]);
                return [gruOutput, gruHidden];
            case TorchSharp.Modules.RNN rnn:
                var (rnnOutput, rnnHidden) = rnn.forward(input, states.Count == 0 ? null : states[0]);
                return [rnnOutput, rnnHidden];
            default:
                throw new InvalidOperationException($"{_module.GetType().Name} is not a native recurrent module");
        }
    }

    public void Dispose() => _module.Dispose();
}
