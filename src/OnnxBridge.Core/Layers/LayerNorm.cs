using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.LayerNorm(normalized_shape, eps=1e-05, elementwise_affine=True): normalizes over the last
/// dimensions; <c>weight</c> (ones) and <c>bias</c> (zeros) of that shape when affine.
/// </summary>
public sealed class LayerNorm : Block
{
    private readonly long[] _normalizedShape;

    public LayerNorm(long normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) : this([normalizedShape], eps, elementwiseAffine) { }

    public LayerNorm(long[] normalizedShape, double eps = 1e-5, bool elementwiseAffine = true) : base(nameof(LayerNorm))
    {
        ArgumentNullException.ThrowIfNull(normalizedShape);
        if (normalizedShape.Length == 0 || normalizedShape.Any(d => d <= 0))
            throw new ArgumentException($"normalized_shape must be one or more positive sizes, got [{string.Join(", ", normalizedShape)}]", nameof(normalizedShape));
        if (!(eps > 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, "eps must be positive");
        (_normalizedShape, Eps, ElementwiseAffine) = ((long[])normalizedShape.Clone(), eps, elementwiseAffine);
        if (!elementwiseAffine) return;
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", ones(normalizedShape));
        Bias = RegisterParameter("bias", zeros(normalizedShape));
    }

    public long[] NormalizedShape => (long[])_normalizedShape.Clone();

    public double Eps { get; }

    public bool ElementwiseAffine { get; }

    public Parameter? Weight { get; }

    public Parameter? Bias { get; }

    protected override Value Forward(Value input) =>
        Ops.LayerNorm(input, _normalizedShape, Weight is null ? null : Use(Weight), Bias is null ? null : Use(Bias), Eps);

    protected override string ExtraRepr =>
        $"({string.Join(", ", _normalizedShape)}{(_normalizedShape.Length == 1 ? "," : "")}), eps={PythonRepr.Float(Eps)}, elementwise_affine={(ElementwiseAffine ? "True" : "False")}";
}
