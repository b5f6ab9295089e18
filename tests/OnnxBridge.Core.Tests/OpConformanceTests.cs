using System.Text.Json;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Every tensor operation on <see cref="Value"/> against PyTorch itself: tests/Conformance/torch_ops.py
/// (run with Debian's python3-torch 1.13) records PyTorch's outputs and input gradients for each
/// case; here the same operation runs eagerly in TorchSharp (forward and gradients) and exported
/// under ONNX Runtime at opsets 13, 17 and 21, each compared at the tolerances stated in <see cref="Conformance"/>.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class OpConformanceTests
{
    private static readonly Lazy<PyTorchCases<Case>> s_cases = new(() => PyTorchCases<Case>.Generate("torch_ops.py"));

    /// <summary>The op table: each op name of torch_ops.py as the same operation on Value.</summary>
    private static readonly Dictionary<string, Func<Value[], JsonElement, Value>> Ops = new(StringComparer.Ordinal)
    {
        ["exp"] = (x, _) => x[0].Exp(),
        ["log"] = (x, _) => x[0].Log(),
        ["sqrt"] = (x, _) => x[0].Sqrt(),
        ["rsqrt"] = (x, _) => x[0].Rsqrt(),
        ["reciprocal"] = (x, _) => x[0].Reciprocal(),
        ["erf"] = (x, _) => x[0].Erf(),
        ["sin"] = (x, _) => x[0].Sin(),
        ["cos"] = (x, _) => x[0].Cos(),
        ["sigmoid"] = (x, _) => x[0].Sigmoid(),
        ["tanh"] = (x, _) => x[0].Tanh(),
        ["abs"] = (x, _) => x[0].Abs(),
        ["neg"] = (x, _) => -x[0],
        ["relu"] = (x, _) => x[0].Relu(),
        ["pow_scalar"] = (x, a) => x[0].Pow(a.GetProperty("exponent").GetDouble()),
        ["pow"] = (x, _) => x[0].Pow(x[1]),
        ["clamp"] = (x, a) => x[0].Clamp(Optional(a, "min"), Optional(a, "max")),
        ["add"] = (x, _) => x[0] + x[1],
        ["sub"] = (x, _) => x[0] - x[1],
        ["mul"] = (x, _) => x[0] * x[1],
        ["div"] = (x, _) => x[0] / x[1],
        ["div_trunc"] = (x, _) => x[0] / x[1],   // integers: ONNX's Div truncates, PyTorch's rounding_mode="trunc"
        ["minimum"] = (x, _) => x[0].Minimum(x[1]),
        ["maximum"] = (x, _) => x[0].Maximum(x[1]),
        ["gt"] = (x, _) => x[0] > x[1],
        ["lt"] = (x, _) => x[0] < x[1],
        ["ge"] = (x, _) => x[0] >= x[1],
        ["le"] = (x, _) => x[0] <= x[1],
        ["eq"] = (x, _) => x[0].Eq(x[1]),
        ["logical_and"] = (x, _) => x[0] & x[1],
        ["logical_or"] = (x, _) => x[0] | x[1],
        ["logical_xor"] = (x, _) => x[0] ^ x[1],
        ["logical_not"] = (x, _) => !x[0],
        ["where"] = (x, _) => Values.Ops.Where(x[0], x[1], x[2]),
        ["to"] = (x, a) => x[0].To(a.GetProperty("dtype").GetString() switch
        {
            "int64" => DataType.Int64,
            "float32" => DataType.Float,
            "bool" => DataType.Bool,
            var other => throw new NotSupportedException(other),
        }),
        ["softmax"] = (x, a) => x[0].Softmax(Long(a, "dim")),
        ["log_softmax"] = (x, a) => x[0].LogSoftmax(Long(a, "dim")),
        ["softmin"] = (x, a) => x[0].Softmin(Long(a, "dim")),
        ["sum_all"] = (x, _) => x[0].Sum(),
        ["mean_all"] = (x, _) => x[0].Mean(),
        ["sum"] = (x, a) => x[0].Sum(Longs(a, "dims"), Bool(a, "keepdim")),
        ["mean"] = (x, a) => x[0].Mean(Longs(a, "dims"), Bool(a, "keepdim")),
        ["amax"] = (x, a) => x[0].Amax(Longs(a, "dims"), Bool(a, "keepdim")),
        ["amin"] = (x, a) => x[0].Amin(Longs(a, "dims"), Bool(a, "keepdim")),
        ["prod"] = (x, a) => x[0].Prod(Long(a, "dim"), Bool(a, "keepdim")),
        ["logsumexp"] = (x, a) => x[0].LogSumExp(Long(a, "dim"), Bool(a, "keepdim")),
        ["argmax"] = (x, a) => x[0].ArgMax(Long(a, "dim"), Bool(a, "keepdim")),
        ["argmin"] = (x, a) => x[0].ArgMin(Long(a, "dim"), Bool(a, "keepdim")),
        ["matmul"] = (x, _) => x[0].MatMul(x[1]),
        ["reshape"] = (x, a) => x[0].Reshape(Longs(a, "shape")),
        ["flatten"] = (x, a) => x[0].Flatten(Long(a, "start"), Long(a, "end")),
        ["transpose"] = (x, a) => x[0].Transpose(Long(a, "dim0"), Long(a, "dim1")),
        ["permute"] = (x, a) => x[0].Permute(Longs(a, "dims")),
        ["squeeze_all"] = (x, _) => x[0].Squeeze(),
        ["squeeze"] = (x, a) => x[0].Squeeze(Long(a, "dim")),
        ["unsqueeze"] = (x, a) => x[0].Unsqueeze(Long(a, "dim")),
        ["cat"] = (x, a) => Values.Ops.Cat(x, Long(a, "dim")),
        ["stack"] = (x, a) => Values.Ops.Stack(x, Long(a, "dim")),
        ["split_sizes"] = (x, a) => WeightedCat(x[0].Split(Longs(a, "sizes"), Long(a, "dim")), Long(a, "dim")),
        ["split_size"] = (x, a) => WeightedCat(x[0].Split(Long(a, "size"), Long(a, "dim")), Long(a, "dim")),
        ["chunk"] = (x, a) => WeightedCat(x[0].Chunk(Long(a, "chunks"), Long(a, "dim")), Long(a, "dim")),
        ["slice"] = (x, a) => x[0].Slice(Long(a, "dim"), Long(a, "start"), Long(a, "end"), Long(a, "step")),
        ["narrow"] = (x, a) => x[0].Narrow(Long(a, "dim"), Long(a, "start"), Long(a, "length")),
        ["gather"] = (x, a) => x[0].Gather(Long(a, "dim"), x[1]),
        ["index_select"] = (x, a) => x[0].IndexSelect(Long(a, "dim"), x[1]),
        ["scatter"] = (x, a) => x[0].Scatter(Long(a, "dim"), x[1], x[2]),
        ["einsum"] = (x, a) => Values.Ops.Einsum(a.GetProperty("equation").GetString()!, x),
        ["scatter_add"] = (x, a) => x[0].ScatterAdd(Long(a, "dim"), x[1], x[2]),
        ["expand"] = (x, a) => x[0].Expand(Longs(a, "sizes")),
        ["repeat"] = (x, a) => x[0].Repeat(Longs(a, "repeats")),
        ["zeros_like"] = (x, _) => Values.Ops.ZerosLike(x[0]),
        ["ones_like"] = (x, _) => Values.Ops.OnesLike(x[0]),
        ["full_like"] = (x, a) => Values.Ops.FullLike(x[0], a.GetProperty("value").GetDouble()),
        ["add_arange_of_size"] = (x, a) => x[0] + Values.Ops.Arange(x[0].Size(Long(a, "dim"))).To(x[0].ElementType),
        ["tan"] = (x, _) => Values.Ops.Tan(x[0]),
        ["asin"] = (x, _) => Values.Ops.Asin(x[0]),
        ["acos"] = (x, _) => Values.Ops.Acos(x[0]),
        ["atan"] = (x, _) => Values.Ops.Atan(x[0]),
        ["sinh"] = (x, _) => Values.Ops.Sinh(x[0]),
        ["cosh"] = (x, _) => Values.Ops.Cosh(x[0]),
        ["asinh"] = (x, _) => Values.Ops.Asinh(x[0]),
        ["acosh"] = (x, _) => Values.Ops.Acosh(x[0]),
        ["atanh"] = (x, _) => Values.Ops.Atanh(x[0]),
        ["floor"] = (x, _) => Values.Ops.Floor(x[0]),
        ["ceil"] = (x, _) => Values.Ops.Ceil(x[0]),
        ["round"] = (x, _) => Values.Ops.Round(x[0]),
        ["sign"] = (x, _) => Values.Ops.Sign(x[0]),
        ["fmod"] = (x, _) => Values.Ops.Mod(x[0], x[1], truncated: true),
        ["remainder"] = (x, _) => Values.Ops.Mod(x[0], x[1], truncated: false),
        ["isnan"] = (x, _) => Values.Ops.IsNaN(x[0]),
        ["isinf"] = (x, _) => Values.Ops.IsInf(x[0]),
        ["isneginf"] = (x, _) => Values.Ops.IsInf(x[0], negative: true, positive: false),
        ["tril"] = (x, a) => Values.Ops.Tril(x[0], Long(a, "k")),
        ["triu"] = (x, a) => Values.Ops.Triu(x[0], Long(a, "k")),
        ["nll_loss"] = (x, a) => Values.Ops.NllLoss(x[0], x[1], x.Length > 2 ? x[2] : null, a.GetProperty("reduction").GetString()!, OptionalLong(a, "ignore_index")),
        ["cross_entropy"] = (x, a) => Values.Ops.CrossEntropy(x[0], x[1], x.Length > 2 ? x[2] : null, a.GetProperty("reduction").GetString()!, OptionalLong(a, "ignore_index")),
    };

    [TestMethod]
    public void TheGeneratorCoversEveryOpInTheTable()
    {
        var cases = s_cases.Value.Cases;

        Assert.IsTrue(cases.Count >= 100, $"{cases.Count} cases");
        CollectionAssert.AreEquivalent(Ops.Keys.ToList(), cases.Select(c => c.Op).Distinct().ToList(), "every op has cases, and every case's op is in the table");
    }

    [TestMethod]
    public void EagerForwardAndGradients_MatchPyTorch() =>
        AssertRunsAsPyTorch("", (c, inputs) => Ops[c.Op]([.. inputs.Select(Value.Eager)], c.Args).Tensor);

    [TestMethod]
    public void ExportedUnderOnnxRuntime_AtOpsets13And17And21_MatchesPyTorch_AndPassesOnnxsCheckerAt17()
    {
        using var checkedModels = new TempFolder();
        var cases = s_cases.Value.Cases;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            var record = s_cases.Value.Record(c.Name);
            var inputs = Enumerable.Range(0, c.Inputs).Select(i => new NamedTensor($"input{i}", record[$"input{i}"])).ToList();
            Conformance.CheckExports(failures, c.Name, new OpBlock(c.Inputs, x => Ops[c.Op](x, c.Args)), inputs, record["output"], checkedModels.Path, c.MinOpset);
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} exports differ from PyTorch:\n{string.Join("\n", failures)}");
        OnnxChecker.AssertValid(Directory.GetFiles(checkedModels.Path, "*.onnx"));
    }

    /// <summary>
    /// Every op's export comes back through <see cref="Import.OnnxImporter"/>: eagerly it gives PyTorch's
    /// output and, where the case records them, PyTorch's gradients for each input.
    /// </summary>
    [TestMethod]
    public void ExportedThenImported_MatchesPyTorch_WithItsGradients() =>
        AssertRunsAsPyTorch("imported, ", (c, inputs) =>
        {
            var specs = inputs.Select((t, i) => new InputSpec($"input{i}", DTypes.ToOnnx(t.dtype), [.. t.shape.Select(Dim.Known)])).ToArray();
            var model = Export.OnnxExporter.Export(new OpBlock(c.Inputs, x => Ops[c.Op](x, c.Args)), new Export.ExportOptions(specs[0], specs[1..]));
            return Import.OnnxImporter.Import(model).forward_all(inputs)[0];
        });

    /// <summary>
    /// Runs every case through <paramref name="run"/> (its inputs, floating ones requiring gradients)
    /// and checks the output and, where PyTorch recorded them, each input's gradient; every case that
    /// differs is reported, <paramref name="what"/> naming the path in each message.
    /// </summary>
    private static void AssertRunsAsPyTorch(string what, Func<Case, Tensor[], Tensor> run)
    {
        var cases = s_cases.Value.Cases;
        var failures = new List<string>();
        foreach (var c in cases)
        {
            using var scope = NewDisposeScope();
            var record = s_cases.Value.Record(c.Name);
            var inputs = Enumerable.Range(0, c.Inputs).Select(i => TensorConvert.ToTorch(record[$"input{i}"])).ToArray();
            foreach (var input in inputs.Where(t => t.is_floating_point())) input.requires_grad_(true);
            try
            {
                var output = run(c, inputs);
                Conformance.Check(failures, c.Name, what + "forward", record["output"], TensorConvert.ToHost(output), Conformance.Eager);
                if (!c.Gradients) continue;
                (output * TensorConvert.ToTorch(record["loss_weight"])).sum().backward();
                for (int i = 0; i < inputs.Length; i++)
                {
                    if (record.TryGetValue($"grad_input{i}", out var expected))
                        Conformance.Check(failures, c.Name, $"{what}gradient of input {i}", expected, TensorConvert.ToHost(inputs[i].grad!), Conformance.Gradient);
                }
            }
            catch (OnnxBridgeException e)
            {
                failures.Add($"{c.Name}: {e.Message}");
            }
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} of {cases.Count} cases differ from PyTorch:\n{string.Join("\n", failures)}");
    }

    private static Value WeightedCat(Value[] parts, long dim) => Values.Ops.Cat([.. parts.Select((p, i) => p * (i + 1))], dim);

    private static long Long(JsonElement args, string name) => args.GetProperty(name).GetInt64();

    private static long[] Longs(JsonElement args, string name) => [.. args.GetProperty(name).EnumerateArray().Select(e => e.GetInt64())];

    private static bool Bool(JsonElement args, string name) => args.GetProperty(name).GetBoolean();

    private static long? OptionalLong(JsonElement args, string name) => args.TryGetProperty(name, out var v) ? v.GetInt64() : null;

    private static double? Optional(JsonElement args, string name) => args.TryGetProperty(name, out var v) ? v.GetDouble() : null;

    private sealed record Case(string Name, string Op, JsonElement Args, int Inputs, bool Gradients,
        [property: System.Text.Json.Serialization.JsonPropertyName("min_opset")] int MinOpset);

    /// <summary>One operation as a block with as many graph inputs as it takes.</summary>
    private sealed class OpBlock(int inputs, Func<Value[], Value> op) : MultiInputBlock("Op")
    {
        public override int InputCount => inputs;

        protected override Value Forward(IReadOnlyList<Value> values) => op([.. values]);
    }
}
