using OnnxBridge.Core.Values;

namespace OnnxBridge.Core.Export;

/// <summary>How to export a block to ONNX.</summary>
public sealed record ExportOptions
{
    /// <summary>The default opset: 17 with IR 8, the newest pair python3-onnx 1.12's checker accepts.</summary>
    public const int DefaultOpset = 17;

    /// <summary>The lowest opset our emitters target (ReduceSum with axes as an input, Gemm-13).</summary>
    public const int MinOpset = 13;

    /// <summary>The highest opset we have checked our emitted operators against.</summary>
    public const int MaxOpset = 21;

    /// <summary>Creates options for a network with one input (or several: a <see cref="Blocks.MultiInputBlock"/>).</summary>
    public ExportOptions(InputSpec input, params InputSpec[] moreInputs)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(moreInputs);
        Inputs = [input, .. moreInputs];
    }

    /// <summary>The graph inputs, in the order the block's forward takes them.</summary>
    public IReadOnlyList<InputSpec> Inputs { get; init; }

    /// <summary>The first graph input: name, element type, shape with symbolic dimensions.</summary>
    public InputSpec Input => Inputs[0];

    /// <summary>The graph output's name (for several outputs without <see cref="OutputNames"/>: <c>output_0</c>, <c>output_1</c>, ...).</summary>
    public string OutputName { get; init; } = "output";

    /// <summary>The names of the graph outputs of a <see cref="Blocks.MultiOutputBlock"/>, in order; null derives them from <see cref="OutputName"/>.</summary>
    public IReadOnlyList<string>? OutputNames { get; init; }

    /// <summary>The names of <paramref name="count"/> graph outputs.</summary>
    /// <exception cref="ExportException">OutputNames gives another number of names, or a name twice.</exception>
    public IReadOnlyList<string> NamesOfOutputs(int count)
    {
        if (OutputNames is { } names)
        {
            if (names.Count != count) throw new ExportException($"OutputNames gives {names.Count} names ({string.Join(", ", names)}) for {count} outputs");
            if (names.Distinct(StringComparer.Ordinal).Count() != names.Count) throw new ExportException($"OutputNames names an output twice: {string.Join(", ", names)}");
            return names;
        }
        return count == 1 ? [OutputName] : [.. Enumerable.Range(0, count).Select(i => $"{OutputName}_{i}")];
    }

    /// <summary>The ONNX opset of the default domain, <see cref="MinOpset"/>..<see cref="MaxOpset"/>.</summary>
    public int Opset { get; init; } = DefaultOpset;

    /// <summary>
    /// For <see cref="OnnxExporter.Save"/>: initializers of at least this many bytes go to an external
    /// data file beside the model, streamed from the parameters. Null keeps them inline unless the
    /// weights pass protobuf's 2 GB limit, in which case tensors of 1 MiB and more go out.
    /// </summary>
    public long? ExternalDataThreshold { get; init; }

    /// <summary>The graph's name; the block's type name when null.</summary>
    public string? GraphName { get; init; }

    /// <summary>The IR version that goes with <see cref="Opset"/> (the oldest IR that defines it).</summary>
    public long IrVersion => Opset switch
    {
        <= 18 => 8,
        <= 20 => 9,
        _ => 10,
    };
}
