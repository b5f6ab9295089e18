using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.InstanceNorm1d/2d(num_features, eps=1e-05, momentum=0.1, affine=False,
/// track_running_stats=False): each channel of each sample normalized over its positions. Running
/// statistics (track_running_stats=True) are not supported.
/// </summary>
public sealed class InstanceNorm : Block
{
    public InstanceNorm(long numFeatures, long inputRank = 4, double eps = 1e-5, double momentum = 0.1, bool affine = false)
        : base(inputRank switch { 3 => "InstanceNorm1d", 4 => "InstanceNorm2d", 5 => "InstanceNorm3d", _ => throw new ArgumentOutOfRangeException(nameof(inputRank), inputRank, "InstanceNorm takes [N, C, L] (rank 3), [N, C, H, W] (4) or [N, C, D, H, W] (5) inputs") })
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(numFeatures);
        (NumFeatures, InputRank, Eps, Momentum, Affine) = (numFeatures, inputRank, eps, momentum, affine);
        if (!affine) return;
        using var noGrad = no_grad();
        Weight = RegisterParameter("weight", ones(numFeatures));
        Bias = RegisterParameter("bias", zeros(numFeatures));
    }

    public long NumFeatures { get; }

    public long InputRank { get; }

    public double Eps { get; }

    public double Momentum { get; }

    public bool Affine { get; }

    public Parameter? Weight { get; }

    public Parameter? Bias { get; }

    protected override Value Forward(Value input) =>
        Ops.InstanceNorm(input, Weight is null ? null : Use(Weight), Bias is null ? null : Use(Bias), Eps);

    protected override string ExtraRepr =>
        $"{NumFeatures}, eps={PythonRepr.Float(Eps)}, momentum={PythonRepr.Float(Momentum)}, affine={(Affine ? "True" : "False")}, track_running_stats=False";
}
