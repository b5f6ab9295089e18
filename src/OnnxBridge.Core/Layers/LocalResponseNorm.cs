using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Layers;

/// <summary>
/// nn.LocalResponseNorm(size, alpha=0.0001, beta=0.75, k=1.0): each element divided by
/// (k + alpha/size · the sum of squares over the <c>size</c> channels around it)^beta, AlexNet's
/// normalization. No parameters. Exports as ONNX LRN for odd sizes (see <see cref="Ops.LocalResponseNorm"/>).
/// </summary>
public sealed class LocalResponseNorm : Block
{
    public LocalResponseNorm(long size, double alpha = 1e-4, double beta = 0.75, double k = 1.0) : base(nameof(LocalResponseNorm))
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(size);
        (Size, Alpha, Beta, K) = (size, alpha, beta, k);
    }

    public long Size { get; }

    public double Alpha { get; }

    public double Beta { get; }

    public double K { get; }

    protected override Value Forward(Value input) => Ops.LocalResponseNorm(input, Size, Alpha, Beta, K);

    protected override string ExtraRepr => $"{Size}, alpha={PythonRepr.Float(Alpha)}, beta={PythonRepr.Float(Beta)}, k={PythonRepr.Float(K)}";
}
