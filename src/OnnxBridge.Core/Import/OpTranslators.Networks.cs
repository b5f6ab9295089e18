using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Import;

/// <summary>Linear algebra, convolution, pooling, normalization and control flow.</summary>
internal static partial class OpTranslators
{
    private static void AddNetworks(Dictionary<string, Translator> t)
    {
        t["MatMul"] = n => One(Ops.MatMul(n.Input(0), n.Input(1)));
        t["Einsum"] = n => One(Ops.Einsum(n.String("equation", ""), [.. n.AllInputs]));
        t["Gemm"] = Gemm;
        t["Conv"] = Conv;
        t["ConvTranspose"] = ConvTranspose;
        t["MaxPool"] = n =>
        {
            n.Require(n.OutputsWanted <= 1, "MaxPool's Indices output");
            var x = n.Input(0);
            var kernel = n.Ints("kernel_shape") ?? throw n.Error("attribute 'kernel_shape' is required");
            var dilation = n.Ints("dilations") ?? Ones(kernel.Length);
            var padding = SymmetricPads(n, x, kernel, StridesOf(n, kernel.Length), dilation);
            return One(Ops.MaxPool(x, kernel, StridesOf(n, kernel.Length), padding, dilation, n.Int("ceil_mode", 0) != 0));
        };
        t["AveragePool"] = n =>
        {
            var x = n.Input(0);
            var kernel = n.Ints("kernel_shape") ?? throw n.Error("attribute 'kernel_shape' is required");
            n.Require((n.Ints("dilations") ?? Ones(kernel.Length)).All(d => d == 1), "AveragePool with dilations other than 1");
            var padding = SymmetricPads(n, x, kernel, StridesOf(n, kernel.Length), Ones(kernel.Length));
            return One(Ops.AvgPool(x, kernel, StridesOf(n, kernel.Length), padding, n.Int("ceil_mode", 0) != 0, n.Int("count_include_pad", 0) != 0));
        };
        t["GlobalAveragePool"] = n => One(Ops.Mean(n.Input(0), SpatialDims(n.Input(0)), keepdim: true));
        t["GlobalMaxPool"] = n => One(Ops.Amax(n.Input(0), SpatialDims(n.Input(0)), keepdim: true));
        t["BatchNormalization"] = n =>
        {
            n.Require(n.Int("training_mode", 0) == 0, "training_mode=1 (an exported graph's BatchNormalization runs with its running statistics)");
            n.Require(n.Int("spatial", 1) == 1, "spatial=0");
            n.Require(n.OutputsWanted <= 1, "BatchNormalization's running-statistics outputs");
            // The running statistics are constants of an exported graph: never trained, even where an
            // exporter shares them with a parameter of equal value (PyTorch dedupes identical initializers).
            return One(Ops.BatchNormInference(n.Input(0), n.Input(1), n.Input(2), Detached(n.Input(3)), Detached(n.Input(4)), n.Float("epsilon", 1e-5)));
        };
        t["InstanceNormalization"] = n => One(Ops.InstanceNorm(n.Input(0), n.Input(1), n.Input(2), n.Float("epsilon", 1e-5)));
        t["LayerNormalization"] = n =>
        {
            var x = n.Input(0);
            var axis = n.Int("axis", -1);
            if (axis < 0) axis += x.Rank;
            var normalized = x.Shape.Skip((int)axis).ToList();
            n.Require(normalized.All(d => d.IsKnown), $"normalizing over symbolic dimensions {Dim.Format(normalized)}");
            var epsilon = n.Float("epsilon", 1e-5);
            var y = Ops.LayerNorm(x, [.. normalized.Select(d => d.Size!.Value)], n.Input(1), n.OptionalInput(2), epsilon);
            if (n.Node.Output.Count == 1) return One(y);
            // The optional Mean and InvStdDev outputs, over the normalized axes, kept as size 1.
            long[] axes = [.. Enumerable.Range((int)axis, x.Rank - (int)axis).Select(a => (long)a)];
            var mean = Ops.Mean(x, axes, keepdim: true);
            var centered = x - mean;
            return [y, mean, Ops.Rsqrt(Ops.Mean(centered * centered, axes, keepdim: true) + epsilon)];
        };
        t["Resize"] = Resize;
        t["LRN"] = n =>
        {
            var size = n.Int("size", 0);
            // ONNX centres an even window one channel later than torch's local_response_norm, which runs it.
            if (size % 2 == 0) throw n.Error($"LRN of even size {size} is not supported: its window is not PyTorch's");
            return One(Ops.LocalResponseNorm(n.Input(0), size, n.Float("alpha", 1e-4), n.Float("beta", 0.75), n.Float("bias", 1.0)));
        };
        t["DepthToSpace"] = n => One(Ops.DepthToSpace(n.Input(0), n.Int("blocksize", 0), n.String("mode", "DCR")));
        t["SpaceToDepth"] = n => One(Ops.SpaceToDepth(n.Input(0), n.Int("blocksize", 0)));
        t["Upsample"] = n =>
        {
            n.Require(n.String("mode", "nearest") == "nearest", $"Upsample mode '{n.String("mode", "nearest")}' (its linear mode has no PyTorch counterpart)");
            var scales = (n.Opset < 9 ? n.Floats("scales") : n.ConstantFloats(1)) ?? throw n.Error("scales are required");
            return One(ResizeSpatial(n, n.Input(0), scales, null, "nearest", false));
        };
        t["Loop"] = Loop;
        t["LSTM"] = Recurrent;
        t["GRU"] = Recurrent;
        t["RNN"] = Recurrent;
        t["If"] = n =>
        {
            n.Require(n.Node.Output.Count == 1, "If with several outputs");
            return One(Flow.If(n.Input(0), () => Single(n, n.RunSubgraph(n.Graph("then_branch"), [])), () => Single(n, n.RunSubgraph(n.Graph("else_branch"), []))));
        };
    }

    /// <summary>
    /// ONNX LSTM, GRU and RNN in the forms PyTorch's layers compute: default activations (RNN: Tanh or
    /// Relu), GRU with linear_before_reset=1, no peepholes, sequence_lens or clip, forward or
    /// bidirectional. The weights go back to PyTorch's gate order for the op layer; the outputs take
    /// ONNX's layouts.
    /// </summary>
    private static IReadOnlyList<Value> Recurrent(NodeContext n)
    {
        var op = n.Node.OpType;
        var direction = n.String("direction", "forward");
        n.Require(direction is "forward" or "bidirectional", $"direction '{direction}'");
        n.Require(n.Attribute("clip") is null && n.Int("input_forget", 0) == 0 && n.OptionalInput(4) is null && n.OptionalInput(7) is null,
            $"{op} with clip, input_forget, sequence_lens or peepholes");
        if (op == "GRU") n.Require(n.Int("linear_before_reset", 0) == 1, "GRU with linear_before_reset=0 (PyTorch's GRU is linear_before_reset=1)");
        var activations = n.Attribute("activations")?.Strings.Select(b => b.ToStringUtf8()).Distinct().ToList();
        var relu = op == "RNN" && activations is ["Relu"];
        n.Require(activations is null || (op == "RNN" && activations is ["Tanh"] or ["Relu"]), $"{op} with activations [{string.Join(", ", activations ?? [])}]");
        var gates = op == "LSTM" ? 4 : op == "GRU" ? 3 : 1;
        var batchFirst = n.Int("layout", 0) == 1;
        var (x, w, r, b) = (n.Input(0), n.Input(1), n.Input(2), n.OptionalInput(3));
        var (h0, c0) = (n.OptionalInput(5), op == "LSTM" ? n.OptionalInput(6) : null);
        var hidden = n.Int("hidden_size", 0) is > 0 and var h ? h : r.Shape[2].Size ?? throw n.Error("hidden_size is required");
        var directions = direction == "bidirectional" ? 2 : 1;
        // ONNX's gate order back to PyTorch's: LSTM i, o, f, c → i, f, g, o; GRU z, r, h → r, z, n.
        Value Block(Value v, long k) => Ops.Narrow(v, 0, k * hidden, hidden);
        Value PyTorchOrder(Value v) => gates switch
        {
            4 => Ops.Cat([Block(v, 0), Block(v, 2), Block(v, 3), Block(v, 1)], 0),
            3 => Ops.Cat([Block(v, 1), Block(v, 0), Block(v, 2)], 0),
            _ => v,
        };
        Value Direction(Value v, int d) => Ops.Squeeze(Ops.Narrow(v, 0, d, 1), 0);
        var weights = Enumerable.Range(0, directions).Select(d => new RecurrentWeights(
            PyTorchOrder(Direction(w, d)), PyTorchOrder(Direction(r, d)),
            b is null ? null : PyTorchOrder(Ops.Narrow(Direction(b, d), 0, 0, gates * hidden)),
            b is null ? null : PyTorchOrder(Ops.Narrow(Direction(b, d), 0, gates * hidden, gates * hidden)))).ToList();
        if (batchFirst)
        {
            x = Ops.Permute(x, 1, 0, 2);
            h0 = h0 is null ? null : Ops.Permute(h0, 1, 0, 2);
            c0 = c0 is null ? null : Ops.Permute(c0, 1, 0, 2);
        }
        Value[] outputs = op switch
        {
            "LSTM" => Ops.Lstm(x, [weights], h0, c0) is var (y, hn, cn) ? [y, hn, cn] : [],
            "GRU" => Ops.Gru(x, [weights], h0) is var (y, hn) ? [y, hn] : [],
            _ => Ops.Rnn(x, [weights], relu, h0) is var (y, hn) ? [y, hn] : [],
        };
        // Ours: [seq, batch, directions·H]; ONNX's Y: [seq, directions, batch, H] (layout 1: [batch, seq, directions, H]).
        var yOnnx = Ops.Stack(directions == 1 ? [outputs[0]] : Ops.Chunk(outputs[0], 2, -1), 1);
        return batchFirst
            ? [Ops.Permute(yOnnx, 2, 0, 1, 3), .. outputs.Skip(1).Select(s => Ops.Permute(s, 1, 0, 2))]
            : [yOnnx, .. outputs.Skip(1)];
    }

    /// <summary>
    /// ONNX Resize where it is PyTorch's interpolate: nearest with asymmetric coordinates and floor
    /// rounding, linear with half-pixel (PyTorch's) or align-corners coordinates. Other modes are refused.
    /// </summary>
    private static IReadOnlyList<Value> Resize(NodeContext n)
    {
        n.Require(n.Opset >= 11, "Resize before opset 11 (its coordinate rules were not yet defined)");
        var x = n.Input(0);
        var (mode, coordinates) = (n.String("mode", "nearest"), n.String("coordinate_transformation_mode", "half_pixel"));
        n.Require(n.Attribute("axes") is null && n.String("keep_aspect_ratio_policy", "stretch") == "stretch" && n.Int("antialias", 0) == 0, "Resize's axes, keep_aspect_ratio_policy or antialias");
        var (scales, sizes) = (n.ConstantFloats(2), n.InputCount > 3 ? n.ConstantInts(3) : null);
        switch (mode)
        {
            case "nearest":
                n.Require(coordinates == "asymmetric" && n.String("nearest_mode", "round_prefer_floor") == "floor",
                    $"nearest Resize with {coordinates} coordinates and nearest_mode {n.String("nearest_mode", "round_prefer_floor")} (PyTorch's nearest is asymmetric with floor)");
                return One(ResizeSpatial(n, x, scales, sizes, "nearest", false));
            case "linear":
                n.Require(coordinates is "pytorch_half_pixel" or "half_pixel" or "align_corners", $"linear Resize with {coordinates} coordinates");
                return One(ResizeSpatial(n, x, scales, sizes, "linear", coordinates == "align_corners"));
            default:
                throw n.Error($"Resize mode '{mode}' is not supported (nearest and linear are)");
        }
    }

    /// <summary>Interpolate over the spatial dimensions; the scales or sizes given for batch and channels must leave them unchanged.</summary>
    private static Value ResizeSpatial(NodeContext n, Value x, double[]? scales, long[]? sizes, string mode, bool alignCorners)
    {
        if (scales is not null)
        {
            n.Require(scales.Length == x.Rank && scales[0] == 1 && scales[1] == 1, $"scales [{string.Join(", ", scales)}] that resize the batch or channel dimension");
            return Ops.Interpolate(x, null, scales[2..], mode, alignCorners);
        }
        if (sizes is null) throw n.Error("one of scales and sizes is required");
        var keepsBatch = x.Shape[0].Size is not { } batch || batch == sizes[0];
        n.Require(sizes.Length == x.Rank && keepsBatch && x.Shape[1].Size == sizes[1], $"sizes [{string.Join(", ", sizes)}] that resize the batch or channel dimension");
        return Ops.Interpolate(x, sizes[2..], null, mode, alignCorners);
    }

    /// <summary>
    /// ONNX Loop: eagerly a C# loop replaying the body (iteration count M and condition as given, the
    /// carried values threaded through, scan outputs stacked along a new first dimension); during
    /// export a Loop node whose body is recorded from the same replay.
    /// </summary>
    private static IReadOnlyList<Value> Loop(NodeContext n)
    {
        var body = n.Graph("body");
        var (maxTrips, condition) = (n.OptionalInput(0), n.OptionalInput(1));
        var carried = Enumerable.Range(2, n.InputCount - 2).Select(n.Input).ToList();
        var scans = body.Output.Count - 1 - carried.Count;
        if (scans < 0) throw n.Error($"the body gives {body.Output.Count} outputs for {carried.Count} carried values");
        if (Tracing.GraphRecorder.Current is not { } graph)
        {
            var (trips, go) = (maxTrips is null ? long.MaxValue : (long)maxTrips.Item(), condition is null || condition.Item() != 0);
            var collected = Enumerable.Range(0, scans).Select(_ => new List<Value>()).ToList();
            for (long i = 0; i < trips && go; i++)
            {
                var outputs = n.RunSubgraph(body, [Value.Eager(TorchSharp.torch.tensor(i)), Value.Eager(TorchSharp.torch.tensor(go)), .. carried]);
                go = outputs[0].Item() != 0;
                carried = [.. outputs.Skip(1).Take(carried.Count)];
                for (int k = 0; k < scans; k++) collected[k].Add(outputs[1 + carried.Count + k]);
            }
            if (collected.Any(c => c.Count == 0) && scans > 0) throw n.Error("a loop that runs no iteration gives empty scan outputs, which are not supported");
            return [.. carried, .. collected.Select(c => Ops.Stack(c, 0))];
        }
        var start = carried.Select(v => Ops.Lift(graph, v)).ToArray();
        SymbolicTensor[] produced = [];
        var bodyGraph = graph.RecordSubgraph("Loop_body",
            [("iteration_num", Onnx.Proto.TensorProto.Types.DataType.Int64, []), ("cond_in", Onnx.Proto.TensorProto.Types.DataType.Bool, []),
             .. start.Select((s, k) => ($"v{k}_in", s.ElementType, s.Shape))],
            inputs => produced = [.. n.RunSubgraph(body, [.. inputs.Select(Value.Symbolic)]).Select(v => Ops.Lift(graph, v))]);
        var node = graph.Node("Loop").OptionalInput(maxTrips is null ? null : Ops.Lift(graph, maxTrips))
            .OptionalInput(condition is null ? null : Ops.Lift(graph, condition)).Input(start).Attribute("body", bodyGraph);
        var shapes = start.Select((s, k) => (s.ElementType, (IReadOnlyList<Dim>)[.. s.Shape.Zip(produced[1 + k].Shape, (a, b) => a == b ? a : Dim.Unknown)]))
            .Concat(produced.Skip(1 + start.Length).Select(s => (s.ElementType, (IReadOnlyList<Dim>)[Dim.Unknown, .. s.Shape])));
        return [.. node.Outputs([.. shapes]).Select(Value.Symbolic)];
    }

    private static Value Detached(Value v) => v.IsSymbolic || !v.Tensor.requires_grad ? v : Value.Eager(v.Tensor.detach());

    private static Value Single(NodeContext n, IReadOnlyList<Value> outputs) =>
        outputs.Count == 1 ? outputs[0] : throw n.Error($"a branch gives {outputs.Count} outputs, one is supported");

    /// <summary>Y = α·A′·B′ + β·C; the common transB=1, α=β=1 form with a 1-D bias is PyTorch's Linear.</summary>
    private static IReadOnlyList<Value> Gemm(NodeContext n)
    {
        var (a, b, c) = (n.Input(0), n.Input(1), n.OptionalInput(2));
        var (alpha, beta) = (n.Float("alpha", 1), n.Float("beta", 1));
        var (transA, transB) = (n.Int("transA", 0) != 0, n.Int("transB", 0) != 0);
        if (!transA && transB && alpha == 1 && beta == 1 && (c is null || c.Rank == 1)) return One(Ops.Linear(a, b, c));
        var y = Ops.MatMul(transA ? Ops.Transpose(a, 0, 1) : a, transB ? Ops.Transpose(b, 0, 1) : b);
        if (alpha != 1) y *= alpha;
        if (c is not null) y += beta == 1 ? c : c * beta;
        return One(y);
    }

    private static IReadOnlyList<Value> Conv(NodeContext n)
    {
        var (x, w, bias) = (n.Input(0), n.Input(1), n.OptionalInput(2));
        var kernel = n.Ints("kernel_shape") ?? [.. w.Shape.Skip(2).Select(d => d.Size ?? throw n.Error("the weight's spatial dimensions must be known"))];
        var strides = StridesOf(n, kernel.Length);
        var dilation = n.Ints("dilations") ?? Ones(kernel.Length);
        var (begin, end) = Pads(n, x, kernel, strides, dilation);
        return One(Ops.Conv(x, w, bias, strides, begin, end, dilation, n.Int("group", 1)));
    }

    private static IReadOnlyList<Value> ConvTranspose(NodeContext n)
    {
        var (x, w, bias) = (n.Input(0), n.Input(1), n.OptionalInput(2));
        var spatial = w.Rank - 2;
        n.Require(n.Attribute("output_shape") is null, "ConvTranspose's output_shape attribute");
        n.Require(n.String("auto_pad", "NOTSET") is "NOTSET" or "VALID", "ConvTranspose with auto_pad SAME_*");
        var pads = n.Ints("pads") ?? new long[2 * spatial];
        n.Require(pads[..spatial].SequenceEqual(pads[spatial..]), $"asymmetric pads [{string.Join(", ", pads)}]");
        return One(Ops.ConvTranspose(x, w, bias, StridesOf(n, spatial), pads[..spatial], n.Ints("output_padding") ?? new long[spatial],
            n.Ints("dilations") ?? Ones(spatial), n.Int("group", 1)));
    }

    private static long[] Ones(int count) => [.. Enumerable.Repeat(1L, count)];

    private static long[] StridesOf(NodeContext n, int spatial) => n.Ints("strides") ?? Ones(spatial);

    private static long[] SpatialDims(Value x) => [.. Enumerable.Range(2, x.Rank - 2).Select(d => (long)d)];

    /// <summary>Begin and end pads from <c>pads</c> or <c>auto_pad</c> (SAME_* from the input's known spatial sizes).</summary>
    private static (long[] Begin, long[] End) Pads(NodeContext n, Value x, long[] kernel, long[] strides, long[] dilation)
    {
        var spatial = kernel.Length;
        switch (n.String("auto_pad", "NOTSET"))
        {
            case "NOTSET":
                var pads = n.Ints("pads") ?? new long[2 * spatial];
                return (pads[..spatial], pads[spatial..]);
            case "VALID":
                return (new long[spatial], new long[spatial]);
            case var same and ("SAME_UPPER" or "SAME_LOWER"):
                var (begin, end) = (new long[spatial], new long[spatial]);
                for (int i = 0; i < spatial; i++)
                {
                    var size = x.Shape[2 + i].Size ?? throw n.Error($"auto_pad={same} needs the input's spatial sizes, dimension {2 + i} is symbolic");
                    var output = (size + strides[i] - 1) / strides[i];
                    var total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilation[i] + 1 - size);
                    (begin[i], end[i]) = same == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
                }
                return (begin, end);
            case var other:
                throw n.Error($"auto_pad='{other}' is not one of NOTSET, VALID, SAME_UPPER, SAME_LOWER");
        }
    }

    private static long[] SymmetricPads(NodeContext n, Value x, long[] kernel, long[] strides, long[] dilation)
    {
        var (begin, end) = Pads(n, x, kernel, strides, dilation);
        n.Require(begin.SequenceEqual(end), $"asymmetric padding (begin [{string.Join(", ", begin)}], end [{string.Join(", ", end)}]) for pooling");
        return begin;
    }
}
