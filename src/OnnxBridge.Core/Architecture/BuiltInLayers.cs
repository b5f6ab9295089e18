using System.Reflection;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;

namespace OnnxBridge.Core.Architecture;

/// <summary>
/// What architecture files know of the built-in layers: their names, and how many parameters and
/// buffer elements each allocates given its constructor arguments (charged to the file's budget
/// before it allocates; deferred layers are charged when they materialize).
/// </summary>
internal static class BuiltInLayers
{
    /// <summary>The built-in layers by the name files give them.</summary>
    public static readonly Dictionary<string, Type> Types = new(StringComparer.Ordinal)
    {
        ["Sequential"] = typeof(Sequential),
        ["ModuleList"] = typeof(ModuleList),
        ["ModuleDict"] = typeof(ModuleDict),
        ["Linear"] = typeof(Linear),
        ["ReLU"] = typeof(ReLU),
        ["Conv1d"] = typeof(Conv1d),
        ["Conv2d"] = typeof(Conv2d),
        ["Conv3d"] = typeof(Conv3d),
        ["MaxPool1d"] = typeof(MaxPool1d),
        ["MaxPool2d"] = typeof(MaxPool2d),
        ["MaxPool3d"] = typeof(MaxPool3d),
        ["AvgPool1d"] = typeof(AvgPool1d),
        ["AvgPool2d"] = typeof(AvgPool2d),
        ["AvgPool3d"] = typeof(AvgPool3d),
        ["AdaptiveAvgPool1d"] = typeof(AdaptiveAvgPool1d),
        ["AdaptiveAvgPool2d"] = typeof(AdaptiveAvgPool2d),
        ["AdaptiveMaxPool1d"] = typeof(AdaptiveMaxPool1d),
        ["AdaptiveMaxPool2d"] = typeof(AdaptiveMaxPool2d),
        ["Flatten"] = typeof(Flatten),
        ["Unflatten"] = typeof(Unflatten),
        ["Dropout"] = typeof(Dropout),
        ["BatchNorm"] = typeof(BatchNorm),
        ["Normalization"] = typeof(Normalization),
        ["Identity"] = typeof(Identity),
        ["Sigmoid"] = typeof(Sigmoid),
        ["Tanh"] = typeof(Tanh),
        ["LeakyReLU"] = typeof(LeakyReLU),
        ["PReLU"] = typeof(PReLU),
        ["ELU"] = typeof(ELU),
        ["SELU"] = typeof(SELU),
        ["CELU"] = typeof(CELU),
        ["GELU"] = typeof(GELU),
        ["SiLU"] = typeof(SiLU),
        ["Mish"] = typeof(Mish),
        ["Hardtanh"] = typeof(Hardtanh),
        ["ReLU6"] = typeof(ReLU6),
        ["Hardsigmoid"] = typeof(Hardsigmoid),
        ["Hardswish"] = typeof(Hardswish),
        ["Softplus"] = typeof(Softplus),
        ["Softsign"] = typeof(Softsign),
        ["Softmax"] = typeof(Softmax),
        ["LogSoftmax"] = typeof(LogSoftmax),
        ["Softmin"] = typeof(Softmin),
        ["GLU"] = typeof(GLU),
        ["ConvTranspose1d"] = typeof(ConvTranspose1d),
        ["ConvTranspose2d"] = typeof(ConvTranspose2d),
        ["Upsample"] = typeof(Upsample),
        ["PixelShuffle"] = typeof(PixelShuffle),
        ["PixelUnshuffle"] = typeof(PixelUnshuffle),
        ["ZeroPad2d"] = typeof(ZeroPad2d),
        ["ConstantPad1d"] = typeof(ConstantPad1d),
        ["ConstantPad2d"] = typeof(ConstantPad2d),
        ["ReflectionPad1d"] = typeof(ReflectionPad1d),
        ["ReflectionPad2d"] = typeof(ReflectionPad2d),
        ["ReplicationPad1d"] = typeof(ReplicationPad1d),
        ["ReplicationPad2d"] = typeof(ReplicationPad2d),
        ["ChannelDropout"] = typeof(ChannelDropout),
        ["LayerNorm"] = typeof(LayerNorm),
        ["GroupNorm"] = typeof(GroupNorm),
        ["LocalResponseNorm"] = typeof(LocalResponseNorm),
        ["InstanceNorm"] = typeof(InstanceNorm),
        ["Embedding"] = typeof(Embedding),
        ["LSTM"] = typeof(LSTM),
        ["GRU"] = typeof(GRU),
        ["RNN"] = typeof(RNN),
        ["LSTMCell"] = typeof(LSTMCell),
        ["GRUCell"] = typeof(GRUCell),
        ["RNNCell"] = typeof(RNNCell),
        ["MultiheadAttention"] = typeof(MultiheadAttention),
        ["TransformerEncoderLayer"] = typeof(TransformerEncoderLayer),
        ["TransformerDecoderLayer"] = typeof(TransformerDecoderLayer),
        ["SinusoidalPositionalEncoding"] = typeof(SinusoidalPositionalEncoding),
        ["LearnedPositionalEmbedding"] = typeof(LearnedPositionalEmbedding),
    };

    /// <summary>Parameters and buffer elements of a built-in layer from its constructor arguments; 0 for other blocks, −1 past 2^63.</summary>
    public static long ParameterCount(Type type, ParameterInfo[] parameters, object?[] values)
    {
        long? Arg(string name) => values[Array.FindIndex(parameters, p => p.Name == name)] switch
        {
            long l => l,
            bool b => b ? 1 : 0,
            _ => null,
        };
        long Sum(params long[] terms) => terms.Any(t => t < 0) || terms.Sum(t => (decimal)t) > long.MaxValue ? -1 : terms.Sum();
        return type switch
        {
            _ when type == typeof(Linear) => Arg("inFeatures") is { } inFeatures
                ? Sum(ParameterBudget.Product([Arg("outFeatures") ?? 0, inFeatures]), Arg("bias") * Arg("outFeatures") ?? 0)
                : 0,
            _ when typeof(ConvTranspose).IsAssignableFrom(type) => Arg("inChannels") is { } inputs
                ? Sum(ParameterBudget.Product([inputs, (Arg("outChannels") ?? 0) / Math.Max(1, Arg("groups") ?? 1), .. KernelElements(type, values.OfType<long[]>().FirstOrDefault())]),
                      Arg("bias") * Arg("outChannels") ?? 0)
                : 0,
            _ when typeof(Convolution).IsAssignableFrom(type) => Arg("inChannels") is { } inChannels
                ? Sum(ParameterBudget.Product([Arg("outChannels") ?? 0, inChannels / Math.Max(1, Arg("groups") ?? 1), .. KernelElements(type, values.OfType<long[]>().FirstOrDefault())]),
                      Arg("bias") * Arg("outChannels") ?? 0)
                : 0,
            // weight, bias, running_mean, running_var, and the num_batches_tracked scalar.
            _ when type == typeof(BatchNorm) => Sum(ParameterBudget.Product([4, Arg("numFeatures") ?? 0]), 1),
            // mean and std.
            _ when type == typeof(Normalization) => ParameterBudget.Product([2, Arg("numFeatures") ?? 0]),
            _ when type == typeof(PReLU) => Arg("numParameters") ?? 1,
            _ when type == typeof(LayerNorm) => values.OfType<long[]>().FirstOrDefault() is { } shape
                ? ParameterBudget.Product([2, .. shape]) : ParameterBudget.Product([2, Arg("normalizedShape") ?? 0]),
            _ when type == typeof(GroupNorm) => ParameterBudget.Product([2, Arg("numChannels") ?? 0]),
            _ when type == typeof(InstanceNorm) => ParameterBudget.Product([2, Arg("numFeatures") ?? 0]),
            _ when type == typeof(Embedding) => ParameterBudget.Product([Arg("numEmbeddings") ?? 0, Arg("embeddingDim") ?? 0]),
            _ when typeof(RecurrentLayer).IsAssignableFrom(type) => Recurrent(Gates(type), Arg("inputSize") ?? 0, Arg("hiddenSize") ?? 0, Arg("numLayers") ?? 1, Arg("bias") ?? 1, Arg("bidirectional") ?? 0),
            _ when typeof(RecurrentCell).IsAssignableFrom(type) => Recurrent(Gates(type), Arg("inputSize") ?? 0, Arg("hiddenSize") ?? 0, 1, Arg("bias") ?? 1, 0),
            _ when type == typeof(MultiheadAttention) => Attention(Arg("embedDim") ?? 0, Arg("kdim"), Arg("vdim"), Arg("bias") ?? 1),
            _ when type == typeof(TransformerEncoderLayer) => TransformerLayer(Arg("dModel") ?? 0, Arg("dimFeedforward") ?? 2048, attentions: 1, norms: 2),
            _ when type == typeof(TransformerDecoderLayer) => TransformerLayer(Arg("dModel") ?? 0, Arg("dimFeedforward") ?? 2048, attentions: 2, norms: 3),
            _ when type == typeof(LearnedPositionalEmbedding) => ParameterBudget.Product([Arg("maxLength") ?? 0, Arg("dModel") ?? 0]),
            _ => 0,
        };

        long Recurrent(long gates, long input, long hidden, long layers, long bias, long bidirectional)
        {
            // Each layer and direction: W_ih [G·H, in], W_hh [G·H, H] and two biases [G·H]; later layers read every direction's output.
            var directions = bidirectional + 1;
            var rows = ParameterBudget.Product([gates, hidden]);
            var first = ParameterBudget.Product([rows, Sum(input, hidden, 2 * bias)]);
            var later = ParameterBudget.Product([rows, Sum(ParameterBudget.Product([directions, hidden]), hidden, 2 * bias)]);
            return ParameterBudget.Product([directions, Sum(first, ParameterBudget.Product([Math.Max(layers - 1, 0), later]))]);
        }

        long Attention(long embed, long? kdim, long? vdim, long bias) =>
            // in_proj (or q/k/v_proj) weights, in_proj_bias, out_proj.weight and out_proj.bias.
            Sum(ParameterBudget.Product([embed, Sum(embed, kdim ?? embed, vdim ?? embed)]), ParameterBudget.Product([3, bias, embed]), ParameterBudget.Product([embed, embed]), bias * embed);

        long TransformerLayer(long model, long feedForward, long attentions, long norms) =>
            // The attentions, linear1 and linear2 with their biases, and a weight and bias per LayerNorm.
            Sum(ParameterBudget.Product([attentions, Attention(model, null, null, 1)]), ParameterBudget.Product([2, model, feedForward]), feedForward, model,
                ParameterBudget.Product([2 * norms, model]));
    }

    private static long Gates(Type type) => type == typeof(LSTM) || type == typeof(LSTMCell) ? 4 : type == typeof(GRU) || type == typeof(GRUCell) ? 3 : 1;

    /// <summary>The kernel sizes of a convolution from its file arguments: one per spatial dimension.</summary>
    private static long[] KernelElements(Type type, long[]? kernel)
    {
        var dimensions = type == typeof(Conv1d) || type == typeof(ConvTranspose1d) ? 1 : type == typeof(Conv3d) ? 3 : 2;
        return kernel is null ? [0] : kernel.Length == 1 ? [.. Enumerable.Repeat(kernel[0], dimensions)] : kernel;
    }
}
