using System.Globalization;
using System.Text;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Runtime.Parity;

/// <summary>One data set's outcome: the input shapes fed and each output's comparison.</summary>
public sealed record DataSetParity(int Index, IReadOnlyList<string> InputShapes, IReadOnlyList<OutputParity> Outputs)
{
    /// <summary>Whether every output passed.</summary>
    public bool Passed => Outputs.All(o => o.Passed);
}

/// <summary>
/// The outcome of running a model under ONNX Runtime against reference outputs: which provider ran
/// it, the tolerance, and for every data set and output the largest absolute and relative errors.
/// </summary>
public sealed record ParityReport(string Model, string Provider, Tolerance Tolerance, IReadOnlyList<DataSetParity> DataSets)
{
    /// <summary>Whether every output of every data set passed (and there was at least one).</summary>
    public bool Passed => DataSets.Count > 0 && DataSets.All(d => d.Passed);

    /// <summary>The largest absolute error over all outputs.</summary>
    public double MaxAbsoluteError => DataSets.SelectMany(d => d.Outputs).Select(o => o.MaxAbsoluteError).DefaultIfEmpty(0).Max();

    /// <summary>The largest relative error over all outputs.</summary>
    public double MaxRelativeError => DataSets.SelectMany(d => d.Outputs).Select(o => o.MaxRelativeError).DefaultIfEmpty(0).Max();

    /// <summary>A table for terminals and logs.</summary>
    public string Format()
    {
        var c = CultureInfo.InvariantCulture;
        var text = new StringBuilder();
        text.AppendLine(c, $"Parity report: {Model}");
        text.AppendLine(c, $"  provider:  {Provider}");
        text.AppendLine(c, $"  tolerance: {Tolerance}");
        text.AppendLine(c, $"  {"set",-4} {"input",-16} {"output",-10} {"shape",-14} {"max |Δ|",10} {"max rel",10} {"fails",6}  result");
        foreach (var set in DataSets)
        {
            foreach (var o in set.Outputs)
            {
                text.AppendLine(c, $"  {set.Index,-4} {string.Join(" ", set.InputShapes),-16} {o.Name,-10} {HostTensor.FormatShape(o.Shape),-14} {o.MaxAbsoluteError,10:0.00e+0} {o.MaxRelativeError,10:0.00e+0} {o.Violations,6}  {(o.Passed ? "pass" : "FAIL")}{(o.Problem is null ? "" : ": " + o.Problem)}");
            }
        }
        text.Append(c, $"  overall: {(Passed ? "PASS" : "FAIL")} (max |Δ| {MaxAbsoluteError:0.00e+0}, max rel {MaxRelativeError:0.00e+0})");
        return text.ToString();
    }
}
