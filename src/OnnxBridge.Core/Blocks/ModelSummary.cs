using System.Globalization;
using System.Text;
using OnnxBridge.Core.Tracing;
using OnnxBridge.Core.Values;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Blocks;

/// <summary>One row of a <see cref="ModelSummary"/>: a block call with its output shape and the parameters it owns.</summary>
/// <param name="Path">The block's state-dict path.</param>
/// <param name="Type">The block's type name.</param>
/// <param name="OutputShape">The shape it returned.</param>
/// <param name="Parameters">Elements of the parameters it owns directly and that no earlier row counted.</param>
/// <param name="Shared">Whether this block, or one of its parameters, was already counted (tied).</param>
public sealed record SummaryRow(string Path, string Type, IReadOnlyList<Dim> OutputShape, long Parameters, bool Shared);

/// <summary>
/// Keras's <c>model.summary()</c> for a block: every block call in order with its output shape and
/// parameter count, recorded by a symbolic run (no data; deferred parameters materialize). Tied
/// parameters are counted once.
/// </summary>
public sealed class ModelSummary
{
    private ModelSummary(string name, InputSpec input, IReadOnlyList<SummaryRow> rows, long trainable, long buffers)
    {
        Name = name;
        Input = input;
        Rows = rows;
        TrainableParameters = trainable;
        BufferElements = buffers;
    }

    /// <summary>The summarized block's type name.</summary>
    public string Name { get; }

    /// <summary>The input the summary was traced with.</summary>
    public InputSpec Input { get; }

    /// <summary>One row per block call, leaves and containers, in call order.</summary>
    public IReadOnlyList<SummaryRow> Rows { get; }

    /// <summary>Elements of all distinct trainable parameters.</summary>
    public long TrainableParameters { get; }

    /// <summary>Elements of all buffers (constants such as d2l's <c>rand_weight</c>).</summary>
    public long BufferElements { get; }

    /// <summary>Traces <paramref name="block"/> on <paramref name="input"/> and summarizes it.</summary>
    public static ModelSummary Of(Block block, InputSpec input)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(input);
        var graph = new GraphRecorder(block, Export.ExportOptions.DefaultOpset); // shapes only: any opset gives the same
        using (no_grad())
        using (graph.Activate())
        {
            block.Call(Value.Symbolic(graph.AddInput(input.Name, input.ElementType, input.Shape)));
        }

        var counted = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var seenBlocks = new HashSet<Block>(ReferenceEqualityComparer.Instance);
        var rows = new List<SummaryRow>();
        foreach (var (path, called, shape) in graph.BlockOutputs)
        {
            long own = 0;
            var shared = !seenBlocks.Add(called);
            foreach (var parameter in called.parameters(recurse: false))
            {
                if (counted.Add(parameter)) own += parameter.numel();
                else shared = true;
            }
            rows.Add(new SummaryRow(path.Length == 0 ? "<root>" : path, called.GetName(), shape, own, shared));
        }
        var trainable = block.parameters().Where(p => p.requires_grad).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().Sum(p => p.numel());
        var buffers = block.NamedBuffers(includeNonPersistent: true).Select(b => b.Buffer).Sum(b => b.numel());
        return new ModelSummary(block.GetName(), input, rows, trainable, buffers);
    }

    /// <summary>A table like Keras prints.</summary>
    public override string ToString()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Model: {Name}, input {Input}");
        text.AppendLine(c, $"{"Block (type)",-34} {"Output shape",-18} {"Param #",10}");
        text.AppendLine(new string('-', 64));
        foreach (var row in Rows.Where(r => r.Path != "<root>"))
        {
            var label = $"{row.Path} ({row.Type}){(row.Shared ? " tied" : "")}";
            text.AppendLine(c, $"{label,-34} {Dim.Format(row.OutputShape),-18} {row.Parameters,10:N0}");
        }
        text.AppendLine(new string('-', 64));
        text.AppendLine(c, $"Output: {Dim.Format(Rows[^1].OutputShape)}");
        text.AppendLine(c, $"Trainable params: {TrainableParameters:N0} (tied parameters counted once)");
        text.Append(c, $"Non-trainable buffer elements: {BufferElements:N0}");
        return text.ToString();
    }
}
