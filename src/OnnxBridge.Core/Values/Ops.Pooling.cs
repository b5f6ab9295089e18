using OnnxBridge.Core.Tracing;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Values;

/// <summary>Max, average and adaptive pooling over 1 to 3 spatial dimensions (after [batch, channels]).</summary>
public static partial class Ops
{
    /// <summary>2-D max pooling with a square window, no padding, floor mode (torch max_pool2d, ONNX MaxPool).</summary>
    public static Value MaxPool2d(Value x, long kernel, long stride) => MaxPool(x, [kernel, kernel], [stride, stride], [0, 0], [1, 1], ceilMode: false);

    /// <summary>
    /// Max pooling with PyTorch's arguments per spatial dimension (torch max_pool1d/2d/3d, ONNX
    /// MaxPool): padding counts as −∞, <paramref name="ceilMode"/> rounds the output size up but
    /// never starts a window in the right padding.
    /// </summary>
    public static Value MaxPool(Value x, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceilMode)
    {
        ArgumentNullException.ThrowIfNull(x);
        var n = CheckWindow(x, "MaxPool", kernel, stride, padding, dilation);
        if (GraphOf(x) is not { } graph)
            return Eager("MaxPool", () => n switch
            {
                1 => nn.functional.max_pool1d(x.Tensor, kernel[0], stride[0], padding[0], dilation[0], ceilMode),
                2 => nn.functional.max_pool2d(x.Tensor, kernel, stride, padding, dilation, ceilMode),
                _ => nn.functional.max_pool3d(x.Tensor, kernel, stride, padding, dilation, ceilMode),
            }, x);
        var sx = Lift(graph, x);
        return Value.Symbolic(graph.Node("MaxPool").Input(sx)
            .Attribute("kernel_shape", kernel).Attribute("strides", stride).Attribute("pads", [.. padding, .. padding])
            .Attribute("dilations", dilation).Attribute("ceil_mode", ceilMode ? 1 : 0)
            .Output(sx.ElementType, PooledShape(graph, "MaxPool", sx, kernel, stride, padding, dilation, ceilMode)));
    }

    /// <summary>
    /// Average pooling with PyTorch's arguments (torch avg_pool1d/2d/3d, ONNX AveragePool):
    /// <paramref name="countIncludePad"/> counts the zero padding in each window's divisor.
    /// </summary>
    public static Value AvgPool(Value x, long[] kernel, long[] stride, long[] padding, bool ceilMode, bool countIncludePad)
    {
        ArgumentNullException.ThrowIfNull(x);
        var n = CheckWindow(x, "AveragePool", kernel, stride, padding, [.. kernel.Select(_ => 1L)]);
        if (GraphOf(x) is not { } graph)
            return Eager("AveragePool", () => n switch
            {
                1 => nn.functional.avg_pool1d(x.Tensor, kernel[0], stride[0], padding[0], ceilMode, countIncludePad),
                2 => nn.functional.avg_pool2d(x.Tensor, kernel, stride, padding, ceilMode, countIncludePad),
                _ => nn.functional.avg_pool3d(x.Tensor, kernel, stride, padding, ceilMode, countIncludePad),
            }, x);
        var sx = Lift(graph, x);
        var ones = kernel.Select(_ => 1L).ToArray();
        return Value.Symbolic(graph.Node("AveragePool").Input(sx)
            .Attribute("kernel_shape", kernel).Attribute("strides", stride).Attribute("pads", [.. padding, .. padding])
            .Attribute("ceil_mode", ceilMode ? 1 : 0).Attribute("count_include_pad", countIncludePad ? 1 : 0)
            .Output(sx.ElementType, PooledShape(graph, "AveragePool", sx, kernel, stride, padding, ones, ceilMode)));
    }

    /// <summary>
    /// Adaptive average or max pooling to <paramref name="outputSize"/> per spatial dimension
    /// (torch adaptive_avg_pool / adaptive_max_pool). Exported as GlobalAveragePool/GlobalMaxPool for
    /// output 1, and as an ordinary pooling with window = stride = input/output where the input size
    /// is a known multiple of the output; other sizes have no ONNX form and are refused at export.
    /// </summary>
    public static Value AdaptivePool(Value x, long[] outputSize, bool max)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(outputSize);
        var op = max ? "AdaptiveMaxPool" : "AdaptiveAvgPool";
        var n = outputSize.Length;
        if (n is < 1 or > 3 || outputSize.Any(s => s <= 0) || x.Rank != n + 2)
            throw Refused(op, $"adaptive pooling to [{string.Join(", ", outputSize)}] takes [batch, channels, {n} spatial dimensions] and positive sizes", x);
        if (GraphOf(x) is not { } graph)
            return Eager(op, () => (n, max) switch
            {
                (1, false) => nn.functional.adaptive_avg_pool1d(x.Tensor, outputSize[0]),
                (2, false) => nn.functional.adaptive_avg_pool2d(x.Tensor, outputSize),
                (3, false) => nn.functional.adaptive_avg_pool3d(x.Tensor, outputSize),
                (1, true) => nn.functional.adaptive_max_pool1d(x.Tensor, outputSize[0]),
                (2, true) => nn.functional.adaptive_max_pool2d(x.Tensor, outputSize),
                _ => nn.functional.adaptive_max_pool3d(x.Tensor, outputSize),
            }, x);
        var sx = Lift(graph, x);
        if (outputSize.All(s => s == 1))
        {
            Dim[] shape = [sx.Shape[0], sx.Shape[1], .. outputSize.Select(_ => Dim.Known(1))];
            return Value.Symbolic(graph.Node(max ? "GlobalMaxPool" : "GlobalAveragePool").Input(sx).Output(sx.ElementType, shape));
        }
        var window = new long[n];
        for (int i = 0; i < n; i++)
        {
            if (sx.Shape[i + 2] is not { IsKnown: true } size || size.Size % outputSize[i] != 0)
                throw graph.Error($"adaptive pooling of {Dim.Format(sx.Shape)} to [{string.Join(", ", outputSize)}] has no ONNX form: each spatial size must be a known multiple of its output size (or the output 1)", op);
            window[i] = size.Size!.Value / outputSize[i];
        }
        var zeros = new long[n];
        return max ? MaxPool(x, window, window, zeros, [.. window.Select(_ => 1L)], ceilMode: false) : AvgPool(x, window, window, zeros, ceilMode: false, countIncludePad: true);
    }

    private static int CheckWindow(Value x, string op, long[] kernel, long[] stride, long[] padding, long[] dilation)
    {
        var n = kernel.Length;
        if (n is < 1 or > 3 || stride.Length != n || padding.Length != n || dilation.Length != n)
            throw Refused(op, $"pooling takes 1 to 3 spatial dimensions with one kernel size, stride, padding and dilation each; got kernel [{string.Join(", ", kernel)}], stride [{string.Join(", ", stride)}], padding [{string.Join(", ", padding)}]", x);
        if (x.Rank != n + 2) throw Refused(op, $"{n}-d pooling takes [batch, channels, {n} spatial dimensions], got {Dim.Format(x.Shape)}", x);
        for (int i = 0; i < n; i++)
        {
            if (padding[i] * 2 > kernel[i])
                throw Refused(op, $"padding {padding[i]} is more than half the window {kernel[i]} (PyTorch refuses it too)", x);
        }
        return n;
    }

    private static Dim[] PooledShape(GraphRecorder graph, string op, SymbolicTensor x, long[] kernel, long[] stride, long[] padding, long[] dilation, bool ceil)
    {
        var shape = new Dim[x.Shape.Count];
        (shape[0], shape[1]) = (x.Shape[0], x.Shape[1]);
        for (int i = 0; i < kernel.Length; i++)
            shape[i + 2] = ShapeInference.Convolved(graph, op, x.Shape, i + 2, kernel[i], stride[i], padding[i], padding[i], dilation[i], ceil);
        return shape;
    }
}
