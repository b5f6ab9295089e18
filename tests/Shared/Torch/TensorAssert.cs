using static TorchSharp.torch;

namespace OnnxBridge.Tests.Shared;

/// <summary>Numerical comparisons of tensors with a stated tolerance: |actual − expected| ≤ absolute + relative·|expected| (numpy's allclose).</summary>
internal static class TensorAssert
{
    public static void Close(Tensor expected, Tensor actual, string what, double absolute = 1e-5, double relative = 1e-5)
    {
        Assert.IsTrue(expected.shape.SequenceEqual(actual.shape), $"{what}: shape [{string.Join(", ", actual.shape)}], expected [{string.Join(", ", expected.shape)}]");
        using var scope = NewDisposeScope();
        var (e, a) = (expected.detach().to(ScalarType.Float64), actual.detach().to(ScalarType.Float64));
        var excess = (a - e).abs().sub(e.abs().mul(relative)).max().item<double>();
        Assert.IsTrue(excess <= absolute, $"{what}: |Δ| exceeds {absolute:0e+0} + {relative:0e+0}·|ref| by up to {excess:0.0e+0} (absolute part included)");
    }
}
