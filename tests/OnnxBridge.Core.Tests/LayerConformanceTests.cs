using System.Text.Json;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Every layer against the torch.nn module of the same name: tests/Conformance/torch_layers.py
/// (Debian's python3-torch 1.13) records each module's state dict, input, output and the gradients
/// of a fixed loss; here the same layer, built from the same arguments, strict-loads that state
/// dict (so the keys are PyTorch's), runs eagerly (forward and gradients of the input and every
/// parameter) and exported under ONNX Runtime at opsets 13, 17 and 21.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class LayerConformanceTests
{
    private static readonly Lazy<PyTorchCases<Case>> s_cases = new(() => PyTorchCases<Case>.Generate("torch_layers.py"));

    /// <summary>The layer table: each torch.nn module of torch_layers.py built from PyTorch's own arguments.</summary>
    private static readonly Dictionary<string, Func<JsonElement, Block>> Layers = new(StringComparer.Ordinal)
    {
        ["Identity"] = _ => new Identity(),
        ["ReLU"] = _ => new ReLU(),
        ["Sigmoid"] = _ => new Sigmoid(),
        ["Tanh"] = _ => new Tanh(),
        ["LeakyReLU"] = a => new LeakyReLU(Double(a, "negative_slope") ?? 0.01),
        ["PReLU"] = a => new PReLU(Long(a, "num_parameters") ?? 1, Double(a, "init") ?? 0.25),
        ["ELU"] = a => new ELU(Double(a, "alpha") ?? 1.0),
        ["SELU"] = _ => new SELU(),
        ["CELU"] = a => new CELU(Double(a, "alpha") ?? 1.0),
        ["GELU"] = a => new GELU(String(a, "approximate") ?? "none"),
        ["SiLU"] = _ => new SiLU(),
        ["Mish"] = _ => new Mish(),
        ["Hardtanh"] = a => new Hardtanh(Double(a, "min_val") ?? -1.0, Double(a, "max_val") ?? 1.0),
        ["ReLU6"] = _ => new ReLU6(),
        ["Hardsigmoid"] = _ => new Hardsigmoid(),
        ["Hardswish"] = _ => new Hardswish(),
        ["Softplus"] = a => new Softplus(Double(a, "beta") ?? 1.0, Double(a, "threshold") ?? 20.0),
        ["Softsign"] = _ => new Softsign(),
        ["Softmax"] = a => new Softmax(Long(a, "dim")!.Value),
        ["LogSoftmax"] = a => new LogSoftmax(Long(a, "dim")!.Value),
        ["Softmin"] = a => new Softmin(Long(a, "dim")!.Value),
        ["GLU"] = a => new GLU(Long(a, "dim") ?? -1),
        ["Linear"] = a => new Linear(Long(a, "in_features"), Long(a, "out_features")!.Value, Bool(a, "bias") ?? true),
        ["LazyLinear"] = a => new Linear(Long(a, "out_features")!.Value, Bool(a, "bias") ?? true),
        ["Conv1d"] = a => String(a, "padding") is { } name
            ? new Conv1d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), name, OptionalLongs(a, "stride"), OptionalLongs(a, "dilation"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, String(a, "padding_mode") ?? "zeros")
            : new Conv1d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, String(a, "padding_mode") ?? "zeros"),
        ["Conv2d"] = a => String(a, "padding") is { } name
            ? new Conv2d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), name, OptionalLongs(a, "stride"), OptionalLongs(a, "dilation"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, String(a, "padding_mode") ?? "zeros")
            : new Conv2d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, String(a, "padding_mode") ?? "zeros"),
        ["Conv3d"] = a => new Conv3d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true),
        ["LazyConv2d"] = a => new Conv2d(null, Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding")),
        ["MaxPool1d"] = a => new MaxPool1d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Bool(a, "ceil_mode") ?? false),
        ["MaxPool2d"] = a => new MaxPool2d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Bool(a, "ceil_mode") ?? false),
        ["MaxPool3d"] = a => new MaxPool3d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "dilation"), Bool(a, "ceil_mode") ?? false),
        ["AvgPool1d"] = a => new AvgPool1d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), Bool(a, "ceil_mode") ?? false, Bool(a, "count_include_pad") ?? true),
        ["AvgPool2d"] = a => new AvgPool2d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), Bool(a, "ceil_mode") ?? false, Bool(a, "count_include_pad") ?? true),
        ["AvgPool3d"] = a => new AvgPool3d(Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), Bool(a, "ceil_mode") ?? false, Bool(a, "count_include_pad") ?? true),
        ["AdaptiveAvgPool1d"] = a => new AdaptiveAvgPool1d(Longs(a, "output_size")),
        ["AdaptiveAvgPool2d"] = a => new AdaptiveAvgPool2d(Longs(a, "output_size")),
        ["AdaptiveMaxPool1d"] = a => new AdaptiveMaxPool1d(Longs(a, "output_size")),
        ["AdaptiveMaxPool2d"] = a => new AdaptiveMaxPool2d(Longs(a, "output_size")),
        ["BatchNorm1d"] = a => new BatchNorm(Long(a, "num_features")!.Value, 2),
        ["BatchNorm2d"] = a => new BatchNorm(Long(a, "num_features")!.Value, 4),
        ["Flatten"] = _ => new Flatten(),
        ["Dropout"] = a => new Dropout(Double(a, "p") ?? 0.5),
        ["ConvTranspose1d"] = a => new ConvTranspose1d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "output_padding"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, OptionalLongs(a, "dilation")),
        ["ConvTranspose2d"] = a => new ConvTranspose2d(Long(a, "in_channels"), Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride"), OptionalLongs(a, "padding"), OptionalLongs(a, "output_padding"), Long(a, "groups") ?? 1, Bool(a, "bias") ?? true, OptionalLongs(a, "dilation")),
        ["LazyConvTranspose2d"] = a => new ConvTranspose2d(null, Long(a, "out_channels")!.Value, Longs(a, "kernel_size"), OptionalLongs(a, "stride")),
        ["Upsample"] = a => new Upsample(OptionalLongs(a, "size"), Double(a, "scale_factor") is { } factor ? [factor] : null, String(a, "mode") ?? "nearest", Bool(a, "align_corners") ?? false),
        ["PixelShuffle"] = a => new PixelShuffle(Long(a, "upscale_factor")!.Value),
        // Only the size given: our defaults must be PyTorch's (the record and the repr say so).
        ["LocalResponseNorm"] = a => a.TryGetProperty("alpha", out _)
            ? new LocalResponseNorm(Long(a, "size")!.Value, Double(a, "alpha")!.Value, Double(a, "beta")!.Value, Double(a, "k")!.Value)
            : new LocalResponseNorm(Long(a, "size")!.Value),
        ["PixelUnshuffle"] = a => new PixelUnshuffle(Long(a, "downscale_factor")!.Value),
        ["ZeroPad2d"] = a => new ZeroPad2d(Longs(a, "padding")),
        ["ConstantPad1d"] = a => new ConstantPad1d(Longs(a, "padding"), Double(a, "value")!.Value),
        ["ConstantPad2d"] = a => new ConstantPad2d(Longs(a, "padding"), Double(a, "value")!.Value),
        ["ReflectionPad1d"] = a => new ReflectionPad1d(Longs(a, "padding")),
        ["ReflectionPad2d"] = a => new ReflectionPad2d(Longs(a, "padding")),
        ["ReplicationPad1d"] = a => new ReplicationPad1d(Longs(a, "padding")),
        ["ReplicationPad2d"] = a => new ReplicationPad2d(Longs(a, "padding")),
        ["Dropout1d"] = a => new ChannelDropout("Dropout1d", Double(a, "p") ?? 0.5),
        ["Dropout2d"] = a => new ChannelDropout("Dropout2d", Double(a, "p") ?? 0.5),
        ["AlphaDropout"] = a => new ChannelDropout("AlphaDropout", Double(a, "p") ?? 0.5),
        ["FlattenRange"] = a => new Flatten(Long(a, "start_dim") ?? 1, Long(a, "end_dim") ?? -1),
        ["BatchNorm3d"] = a => new BatchNorm(Long(a, "num_features")!.Value, 5),
        ["LazyBatchNorm1d"] = a => new BatchNorm(null, 2, Double(a, "eps") ?? 1e-5),
        ["LazyBatchNorm2d"] = a => new BatchNorm(null, 4, Double(a, "eps") ?? 1e-5),
        ["Unflatten"] = a => new Unflatten(Long(a, "dim")!.Value, Longs(a, "unflattened_size")),
        ["LayerNorm"] = a => new LayerNorm(Longs(a, "normalized_shape"), Double(a, "eps") ?? 1e-5, Bool(a, "elementwise_affine") ?? true),
        ["GroupNorm"] = a => new GroupNorm(Long(a, "num_groups")!.Value, Long(a, "num_channels")!.Value, Double(a, "eps") ?? 1e-5, Bool(a, "affine") ?? true),
        ["InstanceNorm1d"] = a => new InstanceNorm(Long(a, "num_features")!.Value, 3, Double(a, "eps") ?? 1e-5, affine: Bool(a, "affine") ?? false),
        ["InstanceNorm2d"] = a => new InstanceNorm(Long(a, "num_features")!.Value, 4, Double(a, "eps") ?? 1e-5, affine: Bool(a, "affine") ?? false),
        ["Embedding"] = a => new Embedding(Long(a, "num_embeddings")!.Value, Long(a, "embedding_dim")!.Value, Long(a, "padding_idx")),
    };

    [TestMethod]
    public void TheGeneratorCoversEveryLayerInTheTable()
    {
        var cases = s_cases.Value.Cases;

        Assert.IsTrue(cases.Count >= 40, $"{cases.Count} cases");
        CollectionAssert.AreEquivalent(Layers.Keys.ToList(), cases.Select(c => c.Layer).Distinct().ToList(), "every layer has cases, and every case's layer is in the table");
    }

    [TestMethod]
    public void StrictLoadOfPyTorchsStateDict_EagerForwardAndGradients_MatchPyTorch() =>
        AssertTrainsAsPyTorch("", s_cases.Value.Cases, (_, layer, _) => layer);

    [TestMethod]
    public void EveryLayer_PrintsAsPyTorchPrintsIt()
    {
        var failures = new List<string>();
        foreach (var c in s_cases.Value.Cases)
        {
            var printed = Load(c).Block.ToString();
            if (printed != c.Repr) failures.Add($"{c.Name}: we print {printed}, PyTorch prints {c.Repr}");
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} prints differ from PyTorch's:\n{string.Join("\n", failures)}");
    }

    [TestMethod]
    public void ExportedUnderOnnxRuntime_AtOpsets13And17And21_MatchesPyTorch_AndPassesOnnxsCheckerAt17()
    {
        using var checkedModels = new TempFolder();
        var failures = new List<string>();
        foreach (var c in s_cases.Value.Cases)
        {
            try
            {
                var (block, record) = Load(c);
                Conformance.CheckExports(failures, c.Name, block, [new NamedTensor("input", record["input"])], record["output"], checkedModels.Path, c.MinOpset, c.NoExport);
            }
            catch (OnnxBridgeException e)
            {
                failures.Add($"{c.Name}: {e.Message}");
            }
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} differences from PyTorch:\n{string.Join("\n", failures)}");
        OnnxChecker.AssertValid(Directory.GetFiles(checkedModels.Path, "*.onnx"));
    }

    /// <summary>
    /// Every layer's export comes back through <see cref="OnnxImporter"/> as a trainable block: the
    /// same parameters by key, PyTorch's forward eagerly, and PyTorch's gradients for the input and each
    /// parameter. A layer we export but cannot import fails here by the op it uses.
    /// </summary>
    [TestMethod]
    public void ExportedThenImported_TrainsAsPyTorch_UnderTheSameKeys() =>
        AssertTrainsAsPyTorch("imported, ", s_cases.Value.Cases.Where(c => c.NoExport is null && c.MinOpset <= Export.ExportOptions.DefaultOpset), (c, layer, failures) =>
        {
            var input = s_cases.Value.Record(c.Name)["input"];
            var model = Export.OnnxExporter.Export(layer, new Export.ExportOptions(new InputSpec("input", input.ElementType, [.. input.Shape.Select(Dim.Known)])));
            var imported = OnnxImporter.Import(model);
            imported.eval();
            // The same parameters by key; buffers the graph does not read (num_batches_tracked) are not exported.
            var (ours, theirs) = (layer.named_parameters().Select(p => p.name).Order().ToList(), imported.named_parameters().Select(p => p.name).Order().ToList());
            if (!ours.SequenceEqual(theirs)) failures.Add($"{c.Name}: the imported block's parameters are [{string.Join(", ", theirs)}], the layer's [{string.Join(", ", ours)}]");
            if (imported.state_dict().Keys.Except(layer.state_dict().Keys).ToList() is { Count: > 0 } extra)
                failures.Add($"{c.Name}: the imported block has state-dict keys the layer does not: {string.Join(", ", extra)}");
            return imported;
        },
        // ONNX has no padding_idx: an exported Embedding is a Gather, whose imported form trains the
        // padding row too. Every other row must match PyTorch's.
        (c, gradient) => c.Layer == "Embedding" && Long(c.Args, "padding_idx") is { } padding
            ? gradient.index_fill(0, tensor(new[] { padding < 0 ? padding + gradient.shape[0] : padding }), 0)
            : gradient);

    /// <summary>
    /// For each case: our layer with PyTorch's state dict, made into the block to check by
    /// <paramref name="prepare"/>, runs PyTorch's input forward and backward; its output, the input's
    /// gradient and each parameter's gradient (found by key, after <paramref name="adjustGradient"/>)
    /// must match PyTorch's. Every difference is reported, <paramref name="what"/> naming the path.
    /// </summary>
    private static void AssertTrainsAsPyTorch(string what, IEnumerable<Case> cases, Func<Case, Block, List<string>, Block> prepare,
        Func<Case, Tensor, Tensor>? adjustGradient = null)
    {
        var failures = new List<string>();
        foreach (var c in cases)
        {
            using var scope = NewDisposeScope();
            try
            {
                var (layer, record) = Load(c);
                var block = prepare(c, layer, failures);
                var input = TensorConvert.ToTorch(record["input"]);
                if (input.is_floating_point()) input.requires_grad_(true);
                var output = block.forward(input);
                Conformance.Check(failures, c.Name, what + "forward", record["output"], TensorConvert.ToHost(output), Conformance.Eager);
                (output * TensorConvert.ToTorch(record["loss_weight"])).sum().backward();
                if (record.TryGetValue("grad.input", out var inputGradient))
                    Conformance.Check(failures, c.Name, what + "gradient of the input", inputGradient, TensorConvert.ToHost(input.grad!), Conformance.Gradient);
                foreach (var (key, parameter) in block.named_parameters())
                {
                    var gradient = adjustGradient is null ? parameter.grad! : adjustGradient(c, parameter.grad!);
                    if (record.TryGetValue("grad." + key, out var expected))
                        Conformance.Check(failures, c.Name, $"{what}gradient of {key}", expected, TensorConvert.ToHost(gradient), Conformance.Gradient);
                    else
                        failures.Add($"{c.Name}: {what}parameter '{key}' has no gradient in PyTorch's record (PyTorch has no such parameter)");
                }
            }
            catch (OnnxBridgeException e)
            {
                failures.Add($"{c.Name}: {e.Message}");
            }
        }
        Assert.AreEqual(0, failures.Count, $"{failures.Count} differences from PyTorch:\n{string.Join("\n", failures)}");
    }

    /// <summary>Our layer for the case, with PyTorch's state dict loaded strictly, in eval mode.</summary>
    private static (Block Block, Dictionary<string, Onnx.Tensors.HostTensor> Record) Load(Case c)
    {
        var record = s_cases.Value.Record(c.Name);
        var block = Layers[c.Layer](c.Args);
        var state = record.Where(e => e.Key.StartsWith("state.", StringComparison.Ordinal)).Select(e => (e.Key["state.".Length..], e.Value)).ToList();
        StateDicts.Load(block, state, $"PyTorch's {c.Layer} state dict");
        block.eval();
        return (block, record);
    }

    private static long? Long(JsonElement args, string name) => args.TryGetProperty(name, out var v) && v.ValueKind != JsonValueKind.Null ? v.GetInt64() : null;

    /// <summary>PyTorch's int-or-list arguments (normalized_shape, kernel_size) as a list.</summary>
    private static long[] Longs(JsonElement args, string name) =>
        args.GetProperty(name) is { ValueKind: JsonValueKind.Array } list ? [.. list.EnumerateArray().Select(e => e.GetInt64())] : [args.GetProperty(name).GetInt64()];

    private static double? Double(JsonElement args, string name) => args.TryGetProperty(name, out var v) ? v.GetDouble() : null;

    private static bool? Bool(JsonElement args, string name) => args.TryGetProperty(name, out var v) ? v.GetBoolean() : null;

    private static string? String(JsonElement args, string name) => args.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;

    private static long[]? OptionalLongs(JsonElement args, string name) => args.TryGetProperty(name, out _) ? Longs(args, name) : null;

    private sealed record Case(string Name, string Layer, JsonElement Args, [property: System.Text.Json.Serialization.JsonPropertyName("min_opset")] int MinOpset,
        [property: System.Text.Json.Serialization.JsonPropertyName("no_export")] string? NoExport, string Repr);
}
