using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Onnx.Proto;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Import;

/// <summary>
/// Finds PyTorch's <c>nn.Sequential</c> in an imported graph (the rule is in
/// <see cref="OnnxImporter.AsSequential"/>): each node becomes the layer it was exported from, at the
/// position its initializer names give, so the state-dict keys are the graph block's.
/// </summary>
internal static class SequentialRecognizer
{
    private sealed record Step(Block Layer, IReadOnlyDictionary<string, string> Parameters);

    public static Sequential? Recognize(OnnxGraphBlock imported)
    {
        var graph = imported.Graph;
        if (imported.Inputs.Count != 1 || imported.OutputNames.Count != 1) return null;
        var initializers = graph.Initializer.Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
        // An exporter's Identity of an initializer is another name for it (PyTorch shares equal tensors so).
        var aliases = graph.Node.Where(n => n.OpType == "Identity" && n.Input.Count == 1 && initializers.Contains(n.Input[0]))
            .ToDictionary(n => n.Output[0], n => n.Input[0], StringComparer.Ordinal);
        string Resolve(string name) => aliases.TryGetValue(name, out var target) ? target : name;

        var state = imported.state_dict();
        var current = imported.Inputs[0].Name;
        var rank = imported.Inputs[0].Shape.Count;
        var steps = new List<Step>();
        foreach (var node in graph.Node.Where(n => !aliases.ContainsKey(n.Output.FirstOrDefault() ?? "")))
        {
            if (node.Domain is not ("" or "ai.onnx") || node.Attribute.Any(a => a.G is not null || a.Graphs.Count > 0)) return null;
            var data = node.Input.Where(i => i.Length > 0 && !initializers.Contains(Resolve(i))).ToList();
            if (data is not [var only] || only != current || node.Output.Count(o => o.Length > 0) != 1) return null;
            var weights = node.Input.Skip(1).Select(i => i.Length == 0 ? null : Resolve(i)).ToList();
            var step = Layer(node, weights, imported.Opset, state, ref rank);
            if (step is null) return null;
            steps.Add(step);
            current = node.Output[0];
        }
        if (current != imported.OutputNames[0] || steps.Count == 0) return null;
        return Assemble(steps, state);
    }

    /// <summary>Places the layers at the positions their keys name ("3.weight" is layer 3), fills the gaps with Identity, and copies the weights.</summary>
    private static Sequential? Assemble(List<Step> steps, IDictionary<string, Tensor> source)
    {
        var positions = new int?[steps.Count];
        for (int i = 0; i < steps.Count; i++)
        {
            if (steps[i].Parameters.Count == 0) continue;
            var prefixes = steps[i].Parameters.Values.Select(name => name.Split('.')).ToList();
            if (prefixes.Any(p => p.Length != 2 || !int.TryParse(p[0], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
                || prefixes.Select(p => p[0]).Distinct().Count() != 1
                || steps[i].Parameters.Any(kv => kv.Value.Split('.')[1] != kv.Key)) return null;
            positions[i] = int.Parse(prefixes[0][0], System.Globalization.CultureInfo.InvariantCulture);
        }
        if (positions.All(p => p is null)) return null;
        // Parameterless layers follow the layer before them; what an export dropped (Dropout in eval mode) becomes Identity.
        var next = 0;
        for (int i = 0; i < steps.Count; i++)
        {
            if (positions[i] is { } fixedAt)
            {
                if (fixedAt < next) return null;   // a layer keyed at or before a position already taken
                next = fixedAt + 1;
            }
            else positions[i] = next++;
        }
        var layers = new Block[positions.Max()!.Value + 1];
        for (int i = 0; i < steps.Count; i++) layers[positions[i]!.Value] = steps[i].Layer;
        var sequential = new Sequential([.. layers.Select(l => l ?? new Identity())]);

        var target = sequential.state_dict();
        using (no_grad())
        {
            for (int i = 0; i < steps.Count; i++)
            {
                foreach (var (local, name) in steps[i].Parameters)
                {
                    var key = $"{positions[i]}.{local}";
                    if (!source.TryGetValue(name, out var value) || !target.TryGetValue(key, out var slot) || !slot.shape.SequenceEqual(value.shape)) return null;
                    slot.copy_(value);
                }
            }
        }
        return sequential;
    }

    /// <summary>The layer a node was exported from, with its parameters' initializer names, or null when it is not one.</summary>
    private static Step? Layer(NodeProto node, List<string?> weights, int opset, IDictionary<string, Tensor> state, ref int rank)
    {
        var attributes = node.Attribute.ToDictionary(a => a.Name, StringComparer.Ordinal);
        long Int(string name, long fallback) => attributes.TryGetValue(name, out var a) ? a.I : fallback;
        // Attributes are float32: read them as the decimal they were written from (1e-5, not 9.99999974e-6).
        double Float(string name, double fallback) => attributes.TryGetValue(name, out var a) ? (double)(decimal)a.F : fallback;
        long[]? Ints(string name) => attributes.TryGetValue(name, out var a) ? [.. a.Ints] : null;
        long[] Shape(string name) => state.TryGetValue(name, out var t) ? t.shape : [];
        static Step Plain(Block layer) => new(layer, new Dictionary<string, string>());

        switch (node.OpType)
        {
            case "Gemm" when Int("transA", 0) == 0 && Int("transB", 0) == 1 && Float("alpha", 1) == 1 && Float("beta", 1) == 1 && weights[0] is { } w && rank == 2:
            {
                var shape = Shape(w);
                if (shape.Length != 2) return null;
                var bias = weights.ElementAtOrDefault(1);
                var parameters = new Dictionary<string, string> { ["weight"] = w };
                if (bias is not null) parameters["bias"] = bias;
                return new Step(new Linear(shape[1], shape[0], bias is not null), parameters);
            }
            case "Conv" when weights[0] is { } w && (attributes.TryGetValue("auto_pad", out var pad) ? pad.S.ToStringUtf8() is "NOTSET" or "" : true):
            {
                var shape = Shape(w);
                var spatial = shape.Length - 2;
                var pads = Ints("pads") ?? new long[2 * spatial];
                if (spatial is not (1 or 2) || rank != spatial + 2 || !pads[..spatial].SequenceEqual(pads[spatial..])) return null;
                var groups = Int("group", 1);
                var bias = weights.ElementAtOrDefault(1);
                var parameters = new Dictionary<string, string> { ["weight"] = w };
                if (bias is not null) parameters["bias"] = bias;
                long[] kernel = [.. shape.Skip(2)];
                Block layer = spatial == 1
                    ? new Conv1d(shape[1] * groups, shape[0], kernel, Ints("strides"), pads[..spatial], Ints("dilations"), groups, bias is not null)
                    : new Conv2d(shape[1] * groups, shape[0], kernel, Ints("strides"), pads[..spatial], Ints("dilations"), groups, bias is not null);
                return new Step(layer, parameters);
            }
            case "BatchNormalization" when weights.Count == 4 && weights.All(x => x is not null) && Int("training_mode", 0) == 0 && rank is >= 2 and <= 5:
                return new Step(new BatchNorm(Shape(weights[0]!)[0], rank, Float("epsilon", 1e-5), (double)(1 - (decimal)Float("momentum", 0.9))),
                    new Dictionary<string, string> { ["weight"] = weights[0]!, ["bias"] = weights[1]!, ["running_mean"] = weights[2]!, ["running_var"] = weights[3]! });
            case "Relu": return Plain(new ReLU());
            case "Sigmoid": return Plain(new Sigmoid());
            case "Tanh": return Plain(new Tanh());
            case "LeakyRelu": return Plain(new LeakyReLU(Float("alpha", 0.01)));
            case "Identity": return Plain(new Identity());
            case "Softmax" or "LogSoftmax" when opset >= 13 || (Int("axis", 1) + rank) % rank == rank - 1:
            {
                var axis = Int("axis", opset >= 13 ? -1 : 1);
                return Plain(node.OpType == "Softmax" ? new Softmax(axis) : new LogSoftmax(axis));
            }
            case "MaxPool" or "AveragePool" when Ints("kernel_shape") is { Length: 1 or 2 } kernel && rank == kernel.Length + 2
                                                && (!attributes.TryGetValue("auto_pad", out var auto) || auto.S.ToStringUtf8() is "NOTSET" or ""):
            {
                var pads = Ints("pads") ?? new long[2 * kernel.Length];
                if (!pads[..kernel.Length].SequenceEqual(pads[kernel.Length..])) return null;
                var ceil = Int("ceil_mode", 0) != 0;
                if (node.OpType == "MaxPool")
                    return Plain(kernel.Length == 1 ? new MaxPool1d(kernel, Ints("strides"), pads[..1], Ints("dilations"), ceil) : new MaxPool2d(kernel, Ints("strides"), pads[..2], Ints("dilations"), ceil));
                var includePad = Int("count_include_pad", 0) != 0;
                return Plain(kernel.Length == 1 ? new AvgPool1d(kernel, Ints("strides"), pads[..1], ceil, includePad) : new AvgPool2d(kernel, Ints("strides"), pads[..2], ceil, includePad));
            }
            case "GlobalAveragePool" when rank is 3 or 4:
                return Plain(rank == 3 ? new AdaptiveAvgPool1d([1]) : new AdaptiveAvgPool2d([1]));
            case "Flatten" when Int("axis", 1) == 1 && rank >= 2:
                rank = 2;
                return Plain(new Flatten());
            case "DepthToSpace" when rank == 4 && Int("blocksize", 0) > 0 && attributes.TryGetValue("mode", out var mode) && mode.S.ToStringUtf8() == "CRD":
                return Plain(new PixelShuffle(Int("blocksize", 0)));
            default:
                return null;
        }
    }
}
