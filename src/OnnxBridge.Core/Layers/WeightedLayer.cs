using OnnxBridge.Core.Architecture;
using OnnxBridge.Core.Blocks;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// What Linear and Conv2d share: a weight [out, in, ...] and an optional bias [out], created when
/// the input size is known (deferred initialization) with PyTorch's <c>reset_parameters</c>:
/// kaiming_uniform_(a=√5) for the weight and the same bound for the bias, U(-1/√fan_in, 1/√fan_in),
/// fan_in being the product of the weight's dimensions after the first.
/// </summary>
public abstract class WeightedLayer : Block, IWeightedLayer
{
    /// <param name="name">The type name shown in structure prints.</param>
    /// <param name="hasBias">Whether the layer adds a bias.</param>
    protected WeightedLayer(string name, bool hasBias) : base(name) => HasBias = hasBias;

    /// <summary>Whether the layer adds a bias.</summary>
    public bool HasBias { get; }

    /// <summary>The weight; null until materialized.</summary>
    public Parameter? Weight { get; private set; }

    /// <summary>The bias; null without bias or until materialized.</summary>
    public Parameter? Bias { get; private set; }

    /// <inheritdoc/>
    protected internal override bool HasPendingParameters => Weight is null;

    /// <summary>PyTorch's lazy modules print as <c>LazyLinear</c>, <c>LazyConv2d</c> until their parameters exist.</summary>
    protected override string DisplayName => HasPendingParameters ? "Lazy" + base.DisplayName : base.DisplayName;

    /// <inheritdoc/>
    protected internal override void MaterializeFromPlan(IReadOnlyDictionary<string, long[]> plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        if (Weight is null) Materialize(plan["weight"], DeferredType, DeferredDevice, initialize: false, plan.TryGetValue("bias", out var bias) ? bias[0] : null);
    }


    /// <summary>Creates and registers the parameters; <paramref name="initialize"/> false leaves them for a state-dict load to fill.</summary>
    /// <param name="biasSize">The bias length: the weight's first dimension unless given (a transposed convolution's is its second).</param>
    protected void Materialize(long[] weightShape, ScalarType dtype, Device device, bool initialize, long? biasSize = null)
    {
        ArgumentNullException.ThrowIfNull(weightShape);
        var weights = ParameterBudget.Product(weightShape);
        ChargeBudget(weights < 0 ? -1 : weights + (HasBias ? biasSize ?? weightShape[0] : 0),
            () => $"{DisplayName} materializing with weight {Onnx.Tensors.HostTensor.FormatShape(weightShape)}");
        using var noGrad = no_grad();
        var weight = new Parameter(empty(weightShape, dtype, device));
        var bias = HasBias ? new Parameter(empty([biasSize ?? weightShape[0]], dtype, device)) : null;
        if (initialize)
        {
            var bound = 1.0 / Math.Sqrt(weightShape.Skip(1).Aggregate(1L, (product, d) => product * d));
            nn.init.uniform_(weight, -bound, bound);
            if (bias is not null) nn.init.uniform_(bias, -bound, bound);
        }
        Weight = weight;
        Bias = bias;
        register_parameter("weight", weight);
        if (bias is not null) register_parameter("bias", bias);
        CompleteMaterialization(run: initialize);
    }
}
