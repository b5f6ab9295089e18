using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Conformance;

/// <summary>
/// onnx's <c>pytorch-operator</c> cases (libonnx-testdata): the functions of PyTorch's
/// test_operators.py, exported by PyTorch's ONNX exporter. Each is written here as the same
/// function over <see cref="Value"/> in a <see cref="FunctionBlock"/>, or as the layer the test used.
/// </summary>
internal static class PyTorchOperatorCases
{
    /// <summary>The folder's name under libonnx-testdata's data folder.</summary>
    public const string Folder = "pytorch-operator";

    private static SuiteCase Unary(string name, Func<Value, Value> f) => SuiteCase.Of(name, () => new FunctionBlock(1, x => [f(x[0])]));

    private static SuiteCase Binary(string name, Func<Value, Value, Value> f) => SuiteCase.Of(name, () => new FunctionBlock(2, x => [f(x[0], x[1])]));

    /// <summary>-sigmoid(tanh(x * (x + y))), the test of several chained operators.</summary>
    private static Value Basic(Value x, Value y) => -(x * (x + y)).Tanh().Sigmoid();

    public static IReadOnlyList<SuiteCase> All { get; } =
    [
        Binary("test_operator_add_broadcast", (x, y) => x + y),
        Binary("test_operator_add_size1_broadcast", (x, y) => x + y),
        Binary("test_operator_add_size1_right_broadcast", (x, y) => x + y),
        Binary("test_operator_add_size1_singleton_broadcast", (x, y) => x + y),
        Unary("test_operator_addconstant", x => x + 1),
        // torch.addmm(torch.addmm(m3, m1, m2), m1, m2)
        SuiteCase.Of("test_operator_addmm", () => new FunctionBlock(3, m => [m[2] + m[0].MatMul(m[1]) + m[0].MatMul(m[1])])),
        Binary("test_operator_basic", Basic),
        SuiteCase.Of("test_operator_chunk", () => new FunctionBlock(1, x => x[0].Chunk(2), outputCount: 2)),
        Unary("test_operator_clip", x => x.Clamp(-0.5, 0.5)),
        Binary("test_operator_concat2", (x, y) => Ops.Cat([x, y], 1)),
        SuiteCase.Of("test_operator_conv", () => new Conv2d(16, 13, [3], bias: false)),
        SuiteCase.Of("test_operator_convtranspose", () => new ConvTranspose2d(3, 3, [3], stride: [3], padding: [1], outputPadding: [2], bias: false)),
        Unary("test_operator_exp", x => x.Exp()),
        // x.view(x.size(0), x.numel() // x.size(0))
        Unary("test_operator_flatten", x => x.Flatten(1)),
        // x[0]
        Unary("test_operator_index", x => x.Slice(0, 0, 1).Squeeze(0)),
        Binary("test_operator_max", (x, y) => x.Maximum(y)),
        SuiteCase.Of("test_operator_maxpool", () => new MaxPool1d([3], [2])),
        Binary("test_operator_min", (x, y) => x.Minimum(y)),
        Binary("test_operator_mm", (x, y) => x.MatMul(y)),
        // A module with an int64 parameter: x * (param + x).
        SuiteCase.Of("test_operator_non_float_params", () => new FunctionBlock("param", zeros(2, 2, ScalarType.Int64), (x, param) => x * (param + x)), "param"),
        // F.pad(x, (2, 3, 0, 1), mode="reflect")
        SuiteCase.Of("test_operator_pad", () => new ReflectionPad2d([2, 3, 0, 1])),
        SuiteCase.Of("test_operator_params", () => new FunctionBlock("y", zeros(2, 2), Basic)),
        Unary("test_operator_permute2", x => x.Permute(0, 1, 4, 2, 5, 3)),
        Binary("test_operator_pow", (x, y) => x.Pow(y)),
        Unary("test_operator_reduced_mean", x => x.Mean([2])),
        Unary("test_operator_reduced_mean_keepdim", x => x.Mean([2], keepdim: true)),
        Unary("test_operator_reduced_sum", x => x.Sum([2])),
        Unary("test_operator_reduced_sum_keepdim", x => x.Sum([2], keepdim: true)),
        Unary("test_operator_repeat", x => x.Repeat(1, 2, 3, 4)),
        // More repeats than dimensions: PyTorch prepends ones to the shape.
        Unary("test_operator_repeat_dim_overflow", x => x.Repeat(1, 2, 3, 4)),
        Unary("test_operator_selu", Ops.Selu),
        Unary("test_operator_sqrt", x => x.Sqrt()),
        // fast-neural-style's hand-written instance norm with a learned scale and shift, eps 1e-9.
        SuiteCase.Of("test_operator_symbolic_override", () => new InstanceNorm(10, 4, 1e-9, affine: true)),
        // (x + y + z, -x, -y): a function with three results.
        SuiteCase.Of("test_operator_symbolic_override_nested", () => new FunctionBlock(3, v => [v[0] + v[1] + v[2], -v[0], -v[1]], outputCount: 3)),
        // x.view(1, -1)
        Unary("test_operator_view", x => x.View(1, -1)),
    ];
}
