using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Builder;

/// <summary>PyTorch's activation modules as builder steps (see <see cref="Layers"/> for each).</summary>
public static class ActivationExtensions
{
    public static SequentialBuilder Identity(this SequentialBuilder builder) => Add(builder, () => new Identity());

    public static SequentialBuilder Sigmoid(this SequentialBuilder builder) => Add(builder, () => new Sigmoid());

    public static SequentialBuilder Tanh(this SequentialBuilder builder) => Add(builder, () => new Tanh());

    public static SequentialBuilder LeakyReLU(this SequentialBuilder builder, double negativeSlope = 0.01) => Add(builder, () => new LeakyReLU(negativeSlope));

    public static SequentialBuilder PReLU(this SequentialBuilder builder, long numParameters = 1, double init = 0.25) =>
        Add(builder, () => new PReLU(numParameters, init));

    public static SequentialBuilder ELU(this SequentialBuilder builder, double alpha = 1.0) => Add(builder, () => new ELU(alpha));

    public static SequentialBuilder SELU(this SequentialBuilder builder) => Add(builder, () => new SELU());

    public static SequentialBuilder CELU(this SequentialBuilder builder, double alpha = 1.0) => Add(builder, () => new CELU(alpha));

    public static SequentialBuilder GELU(this SequentialBuilder builder, string approximate = "none") =>
        Add(builder, () => new GELU(approximate));

    public static SequentialBuilder SiLU(this SequentialBuilder builder) => Add(builder, () => new SiLU());

    public static SequentialBuilder Mish(this SequentialBuilder builder) => Add(builder, () => new Mish());

    public static SequentialBuilder Hardtanh(this SequentialBuilder builder, double minVal = -1.0, double maxVal = 1.0) =>
        Add(builder, () => new Hardtanh(minVal, maxVal));

    public static SequentialBuilder ReLU6(this SequentialBuilder builder) => Add(builder, () => new ReLU6());

    public static SequentialBuilder Hardsigmoid(this SequentialBuilder builder) => Add(builder, () => new Hardsigmoid());

    public static SequentialBuilder Hardswish(this SequentialBuilder builder) => Add(builder, () => new Hardswish());

    public static SequentialBuilder Softplus(this SequentialBuilder builder, double beta = 1.0, double threshold = 20.0) => Add(builder, () => new Softplus(beta, threshold));

    public static SequentialBuilder Softsign(this SequentialBuilder builder) => Add(builder, () => new Softsign());

    public static SequentialBuilder Softmax(this SequentialBuilder builder, long dim) => Add(builder, () => new Softmax(dim));

    public static SequentialBuilder LogSoftmax(this SequentialBuilder builder, long dim) => Add(builder, () => new LogSoftmax(dim));

    public static SequentialBuilder Softmin(this SequentialBuilder builder, long dim) => Add(builder, () => new Softmin(dim));

    public static SequentialBuilder GLU(this SequentialBuilder builder, long dim = -1) => Add(builder, () => new GLU(dim));

    private static SequentialBuilder Add<T>(SequentialBuilder builder, Func<T> create) where T : Block
    {
        ArgumentNullException.ThrowIfNull(builder);
        return builder.AddLayer(typeof(T).Name, create);
    }
}
