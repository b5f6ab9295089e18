using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Values;

/// <summary>The tensor methods PyTorch has on <c>Tensor</c>, each forwarding to <see cref="Ops"/> (where they are documented).</summary>
public sealed partial class Value
{
    public Value Sigmoid() => Ops.Sigmoid(this);

    public Value Tanh() => Ops.Tanh(this);

    public Value Exp() => Ops.Exp(this);

    public Value Log() => Ops.Log(this);

    public Value Sqrt() => Ops.Sqrt(this);

    public Value Rsqrt() => Ops.Rsqrt(this);

    public Value Reciprocal() => Ops.Reciprocal(this);

    public Value Erf() => Ops.Erf(this);

    public Value Sin() => Ops.Sin(this);

    public Value Cos() => Ops.Cos(this);

    public Value Pow(double exponent) => Ops.Pow(this, Ops.ScalarLike(this, exponent));

    public Value Pow(Value exponent) => Ops.Pow(this, exponent);

    public Value Clamp(double? min = null, double? max = null) => Ops.Clamp(this, min, max);

    public Value Minimum(Value other) => Ops.Minimum(this, other);

    public Value Maximum(Value other) => Ops.Maximum(this, other);

    public Value Softmax(long dim) => Ops.Softmax(this, dim);

    public Value LogSoftmax(long dim) => Ops.LogSoftmax(this, dim);

    public Value Softmin(long dim) => Ops.Softmin(this, dim);

    public Value Sum(long[] dims, bool keepdim = false) => Ops.Sum(this, dims, keepdim);

    public Value Mean(long[] dims, bool keepdim = false) => Ops.Mean(this, dims, keepdim);

    public Value Amax(long[] dims, bool keepdim = false) => Ops.Amax(this, dims, keepdim);

    public Value Amin(long[] dims, bool keepdim = false) => Ops.Amin(this, dims, keepdim);

    public Value Prod(long dim, bool keepdim = false) => Ops.Prod(this, dim, keepdim);

    public Value LogSumExp(long dim, bool keepdim = false) => Ops.LogSumExp(this, dim, keepdim);

    public Value ArgMax(long dim, bool keepdim = false) => Ops.ArgMax(this, dim, keepdim);

    public Value ArgMin(long dim, bool keepdim = false) => Ops.ArgMin(this, dim, keepdim);

    public Value Reshape(params long[] shape) => Ops.Reshape(this, shape);

    /// <summary>PyTorch's <c>view</c>: the same as <see cref="Reshape"/> here (values never alias in a graph).</summary>
    public Value View(params long[] shape) => Ops.Reshape(this, shape);

    public Value Flatten(long startDim = 0, long endDim = -1) => Ops.Flatten(this, startDim, endDim);

    public Value Transpose(long dim0, long dim1) => Ops.Transpose(this, dim0, dim1);

    public Value Permute(params long[] dims) => Ops.Permute(this, dims);

    public Value Squeeze() => Ops.Squeeze(this);

    public Value Squeeze(long dim) => Ops.Squeeze(this, dim);

    public Value Unsqueeze(long dim) => Ops.Unsqueeze(this, dim);

    public Value[] Split(long splitSize, long dim = 0) => Ops.Split(this, splitSize, dim);

    public Value[] Split(long[] sizes, long dim = 0) => Ops.Split(this, sizes, dim);

    public Value[] Chunk(long chunks, long dim = 0) => Ops.Chunk(this, chunks, dim);

    public Value Slice(long dim, long start = 0, long end = long.MaxValue, long step = 1) => Ops.Slice(this, dim, start, end, step);

    public Value Narrow(long dim, long start, long length) => Ops.Narrow(this, dim, start, length);

    public Value To(DataType type) => Ops.To(this, type);

    public Value Gather(long dim, Value index) => Ops.Gather(this, dim, index);

    /// <inheritdoc cref="Ops.Scatter(Value, long, Value, Value)"/>
    public Value Scatter(long dim, Value index, Value src) => Ops.Scatter(this, dim, index, src);

    /// <inheritdoc cref="Ops.ScatterAdd(Value, long, Value, Value)"/>
    public Value ScatterAdd(long dim, Value index, Value src) => Ops.ScatterAdd(this, dim, index, src);

    public Value IndexSelect(long dim, Value index) => Ops.IndexSelect(this, dim, index);

    public Value Expand(params long[] sizes) => Ops.Expand(this, sizes);

    public Value Repeat(params long[] repeats) => Ops.Repeat(this, repeats);

    /// <summary>PyTorch's <c>x.size(dim)</c> as an int64 scalar value, which stays symbolic in exports.</summary>
    public Value Size(long dim) => Ops.Size(this, dim);

    public Value Eq(Value other) => Ops.Equal(this, other);

    public Value Eq(double other) => Ops.Equal(this, Ops.ScalarLike(this, other));

    public static Value operator >=(Value a, Value b) => Ops.GreaterOrEqual(a, b);

    public static Value operator <=(Value a, Value b) => Ops.LessOrEqual(a, b);

    public static Value operator >=(Value a, double b) => Ops.GreaterOrEqual(a, Ops.ScalarLike(a, b));

    public static Value operator <=(Value a, double b) => Ops.LessOrEqual(a, Ops.ScalarLike(a, b));

    /// <summary>Logical and of bool values (PyTorch's <c>a &amp; b</c> on bool tensors).</summary>
    public static Value operator &(Value a, Value b) => Ops.LogicalAnd(a, b);

    /// <summary>Logical or of bool values (PyTorch's <c>a | b</c>).</summary>
    public static Value operator |(Value a, Value b) => Ops.LogicalOr(a, b);

    /// <summary>Logical xor of bool values (PyTorch's <c>a ^ b</c>).</summary>
    public static Value operator ^(Value a, Value b) => Ops.LogicalXor(a, b);

    /// <summary>Logical not of a bool value (PyTorch's <c>~a</c>).</summary>
    public static Value operator !(Value a) => Ops.LogicalNot(a);
}
