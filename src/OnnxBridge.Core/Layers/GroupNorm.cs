using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.GroupNorm(num_groups, num_channels, eps=1e-05, affine=True): normalizes groups of channels;
/// per-channel <c>weight</c> (ones) and <c>bias</c> (zeros) when affine.
/// </summary>
public sealed class GroupNorm : Block
{
    public GroupNorm(long numGroups, long numChannels, double eps = 1e-5, bool affine = true) : base(nameof(GroupNorm))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numGroups);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numChannels);
        if (numChannels % numGroups != 0) throw new ArgumentException($"num_channels ({numChannels}) must be divisible by num_groups ({numGroups})", nameof(numChannels));
        (NumGroups, NumChannels, Eps, Affine) = (numGroups, numChannels, eps, affine);
        if (!affine) return;
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", ones(numChannels));
        Bias = RegisterParameter("bias", zeros(numChannels));
    }

    public long NumGroups { get; }

    public long NumChannels { get; }

    public double Eps { get; }

    public bool Affine { get; }

    public Parameter? Weight { get; }

    public Parameter? Bias { get; }

    protected override Value Forward(Value input) =>
        Ops.GroupNorm(input, NumGroups, Weight is null ? null : Use(Weight), Bias is null ? null : Use(Bias), Eps);

    protected override string ExtraRepr => $"{NumGroups}, {NumChannels}, eps={PythonRepr.Float(Eps)}, affine={(Affine ? "True" : "False")}";
}
