using OnnxBridge.Core.Layers;

namespace OnnxBridge.Cli.Conformance;

/// <summary>
/// onnx's <c>pytorch-converted</c> cases (libonnx-testdata): torch.nn modules from PyTorch's
/// common_nn tests, exported by PyTorch's ONNX exporter. Each is rebuilt here as our layer with the
/// test's constructor arguments (read off the module's test entry and the exported attributes).
/// </summary>
internal static class PyTorchConvertedCases
{
    /// <summary>The folder's name under libonnx-testdata's data folder.</summary>
    public const string Folder = "pytorch-converted";

    private static readonly string[] BatchNormKeys = ["weight", "bias", "running_mean", "running_var"];

    public static IReadOnlyList<SuiteCase> All { get; } =
    [
        SuiteCase.Of("test_AvgPool1d", () => new AvgPool1d([2])),
        SuiteCase.Of("test_AvgPool1d_stride", () => new AvgPool1d([2], [2])),
        SuiteCase.Of("test_AvgPool2d", () => new AvgPool2d([2, 2])),
        SuiteCase.Of("test_AvgPool2d_stride", () => new AvgPool2d([2, 2], [2, 2])),
        SuiteCase.Of("test_AvgPool3d", () => new AvgPool3d([2, 2, 2])),
        SuiteCase.Of("test_AvgPool3d_stride", () => new AvgPool3d([2], [2, 2, 2])),
        SuiteCase.Of("test_AvgPool3d_stride1_pad0_gpu_input", () => new AvgPool3d([3], [1], [0])),
        // BatchNorm's momentum in PyTorch is 1 − ONNX's: 0.1 is exported as 0.9.
        SuiteCase.Of("test_BatchNorm1d_3d_input_eval", () => new BatchNorm(5, 2), BatchNormKeys),
        SuiteCase.Of("test_BatchNorm2d_eval", () => new BatchNorm(3, 4), BatchNormKeys),
        SuiteCase.Of("test_BatchNorm2d_momentum_eval", () => new BatchNorm(3, 4, 1e-3, 0.8), BatchNormKeys),
        SuiteCase.Of("test_BatchNorm3d_eval", () => new BatchNorm(3, 5), BatchNormKeys),
        SuiteCase.Of("test_BatchNorm3d_momentum_eval", () => new BatchNorm(3, 5, 1e-3, 0.7), BatchNormKeys),
        SuiteCase.Of("test_ConstantPad2d", () => new ConstantPad2d([1, 2, 3, 4], 2)),
        SuiteCase.Of("test_Conv1d", () => new Conv1d(4, 5, [3])),
        SuiteCase.Of("test_Conv1d_dilated", () => new Conv1d(4, 5, [3], dilation: [2])),
        SuiteCase.Of("test_Conv1d_groups", () => new Conv1d(4, 6, [3], groups: 2)),
        SuiteCase.Of("test_Conv1d_pad1", () => new Conv1d(4, 5, [3], padding: [1])),
        SuiteCase.Of("test_Conv1d_pad1size1", () => new Conv1d(4, 4, [3], padding: [1])),
        SuiteCase.Of("test_Conv1d_pad2", () => new Conv1d(4, 5, [5], padding: [2])),
        SuiteCase.Of("test_Conv1d_pad2size1", () => new Conv1d(4, 4, [5], padding: [2])),
        SuiteCase.Of("test_Conv1d_stride", () => new Conv1d(4, 5, [3], stride: [2])),
        SuiteCase.Of("test_Conv2d", () => new Conv2d(3, 4, [3, 2])),
        SuiteCase.Of("test_Conv2d_depthwise", () => new Conv2d(4, 4, [3, 3], groups: 4)),
        SuiteCase.Of("test_Conv2d_depthwise_padded", () => new Conv2d(4, 4, [3, 3], padding: [1], groups: 4)),
        SuiteCase.Of("test_Conv2d_depthwise_strided", () => new Conv2d(4, 4, [3, 3], stride: [2], groups: 4)),
        SuiteCase.Of("test_Conv2d_depthwise_with_multiplier", () => new Conv2d(4, 8, [3, 3], groups: 4)),
        SuiteCase.Of("test_Conv2d_dilated", () => new Conv2d(3, 2, [3, 3], stride: [2], padding: [1], dilation: [2])),
        SuiteCase.Of("test_Conv2d_groups", () => new Conv2d(4, 6, [3, 2], groups: 2)),
        SuiteCase.Of("test_Conv2d_groups_thnn", () => new Conv2d(4, 6, [3, 2], groups: 2)),
        SuiteCase.Of("test_Conv2d_no_bias", () => new Conv2d(3, 4, [3, 2], bias: false)),
        SuiteCase.Of("test_Conv2d_padding", () => new Conv2d(3, 4, [3, 3], stride: [2], padding: [1])),
        SuiteCase.Of("test_Conv2d_strided", () => new Conv2d(3, 4, [3, 3], stride: [2])),
        SuiteCase.Of("test_Conv3d", () => new Conv3d(3, 4, [2, 3, 4])),
        SuiteCase.Of("test_Conv3d_dilated", () => new Conv3d(3, 4, [2], dilation: [2])),
        SuiteCase.Of("test_Conv3d_dilated_strided", () => new Conv3d(3, 4, [2], stride: [2], dilation: [2])),
        SuiteCase.Of("test_Conv3d_groups", () => new Conv3d(4, 6, [3], groups: 2)),
        SuiteCase.Of("test_Conv3d_no_bias", () => new Conv3d(3, 4, [2, 3, 4], bias: false)),
        SuiteCase.Of("test_Conv3d_stride", () => new Conv3d(3, 4, [2], stride: [2])),
        SuiteCase.Of("test_Conv3d_stride_padding", () => new Conv3d(3, 4, [2], stride: [2], padding: [1])),
        SuiteCase.Of("test_ConvTranspose2d", () => new ConvTranspose2d(3, 4, [3], stride: [3, 2], padding: [1], outputPadding: [1, 1])),
        SuiteCase.Of("test_ConvTranspose2d_no_bias", () => new ConvTranspose2d(3, 4, [3], stride: [2, 3], padding: [1], outputPadding: [1, 1], bias: false)),
        SuiteCase.Of("test_ELU", () => new ELU(2.0)),
        SuiteCase.Of("test_Embedding", () => new Embedding(4, 3)),
        SuiteCase.Missed("test_Embedding_sparse",
            "Embedding(sparse=True): sparse gradients are not offered (TorchSharp's optimizers step dense tensors); the forward is test_Embedding's, which is reproduced"),
        SuiteCase.Of("test_GLU", () => new GLU()),
        SuiteCase.Of("test_GLU_dim", () => new GLU(1)),
        SuiteCase.Of("test_LeakyReLU", () => new LeakyReLU()),
        SuiteCase.Of("test_LeakyReLU_with_negval", () => new LeakyReLU(0.5)),
        SuiteCase.Of("test_Linear", () => new Linear(10, 8)),
        SuiteCase.Of("test_Linear_no_bias", () => new Linear(10, 8, bias: false)),
        SuiteCase.Of("test_LogSoftmax", () => new LogSoftmax(1)),
        SuiteCase.Of("test_MaxPool1d", () => new MaxPool1d([4])),
        SuiteCase.Of("test_MaxPool1d_stride", () => new MaxPool1d([4], [4])),
        SuiteCase.Of("test_MaxPool1d_stride_padding_dilation", () => new MaxPool1d([200], [10], [100], [10])),
        SuiteCase.Of("test_MaxPool2d", () => new MaxPool2d([3, 3], [2, 2], [1, 1])),
        SuiteCase.Of("test_MaxPool2d_stride_padding_dilation", () => new MaxPool2d([60, 80], [10], [10, 20], [10])),
        SuiteCase.Of("test_MaxPool3d", () => new MaxPool3d([2, 2, 2])),
        SuiteCase.Of("test_MaxPool3d_stride", () => new MaxPool3d([2], [2])),
        SuiteCase.Of("test_MaxPool3d_stride_padding", () => new MaxPool3d([2], [2], [1])),
        SuiteCase.Of("test_PReLU_1d", () => new PReLU()),
        SuiteCase.Of("test_PReLU_1d_multiparam", () => new PReLU(3)),
        SuiteCase.Of("test_PReLU_2d", () => new PReLU()),
        SuiteCase.Of("test_PReLU_2d_multiparam", () => new PReLU(3)),
        SuiteCase.Of("test_PReLU_3d", () => new PReLU()),
        SuiteCase.Of("test_PReLU_3d_multiparam", () => new PReLU(3)),
        SuiteCase.Of("test_PixelShuffle", () => new PixelShuffle(3)),
        SuiteCase.Missed("test_PoissonNLLLLoss_no_reduce",
            "a loss (PoissonNLLLoss with its target baked in as a constant): losses belong to training (OnnxBridge.Training), not to the layer vocabulary"),
        SuiteCase.Of("test_ReLU", () => new ReLU()),
        SuiteCase.Of("test_ReflectionPad2d", () => new ReflectionPad2d([1, 2, 3, 4])),
        SuiteCase.Of("test_ReplicationPad2d", () => new ReplicationPad2d([1, 2, 3, 4])),
        SuiteCase.Of("test_SELU", () => new SELU()),
        SuiteCase.Of("test_Sigmoid", () => new Sigmoid()),
        SuiteCase.Of("test_Softmax", () => new Softmax(1)),
        SuiteCase.Of("test_Softmin", () => new Softmin(1)),
        SuiteCase.Of("test_Softplus", () => new Softplus()),
        SuiteCase.Of("test_Softsign", () => new Softsign()),
        SuiteCase.Of("test_Tanh", () => new Tanh()),
        SuiteCase.Of("test_ZeroPad2d", () => new ZeroPad2d([1, 2, 3, 4])),
        // The functional ones (F.log_softmax(x, 3), ...) are the layers of the same name.
        SuiteCase.Of("test_log_softmax_dim3", () => new LogSoftmax(3)),
        SuiteCase.Of("test_log_softmax_lastdim", () => new LogSoftmax(-1)),
        SuiteCase.Of("test_softmax_functional_dim3", () => new Softmax(3)),
        SuiteCase.Of("test_softmax_lastdim", () => new Softmax(-1)),
    ];
}
