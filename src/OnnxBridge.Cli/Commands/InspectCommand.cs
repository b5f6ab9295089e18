using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.Inspection;
using OnnxBridge.Onnx.IO;

namespace OnnxBridge.Cli.Commands;

/// <summary><c>onnxbridge inspect model.onnx</c>: what a model takes and gives, what it is made of, and who made it.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an ONNX model file" };
        var dot = new Option<string?>("--dot") { Description = "also write a Graphviz DOT picture of the graph to this file" };
        var json = new Option<bool>("--json") { Description = "print JSON instead of text" };
        var command = new Command("inspect", "Show a model's inputs and outputs, opsets, operators, parameters and metadata.\n\n" +
                                             "Example: onnxbridge inspect artifacts/models/mlp.onnx --dot mlp.dot")
        {
            model, dot, json,
        };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var path = result.GetValue(model)!;
            var proto = OnnxFiles.ReadModel(path);
            var info = ModelInfo.Of(proto);
            if (result.GetValue(dot) is { } dotPath) AtomicFile.WriteAllBytes(dotPath, System.Text.Encoding.UTF8.GetBytes(DotWriter.Write(proto)));
            output.WriteLine(result.GetValue(json) ? JsonSerializer.Serialize(info, JsonOptions) : Format(path, info));
            return OnnxBridgeCli.Success;
        });
        return command;
    }

    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static string Format(string path, ModelInfo info)
    {
        var c = CultureInfo.InvariantCulture;
        var lines = new List<string>
        {
            $"model:        {path}",
            $"producer:     {info.Producer}",
            string.Create(c, $"IR version:   {info.IrVersion}; opsets {string.Join(", ", info.Opsets.Select(o => $"{o.Key} {o.Value}"))}"),
        };
        lines.AddRange(info.Inputs.Select(i => $"input:        {i.Name}: {i.ElementType}[{string.Join(", ", i.Shape)}]"));
        lines.AddRange(info.Outputs.Select(o => $"output:       {o.Name}: {o.ElementType}[{string.Join(", ", o.Shape)}]"));
        lines.Add(string.Create(c, $"parameters:   {info.Parameters:N0} in {info.Initializers} initializers ({info.ParameterBytes:N0} bytes)"));
        lines.Add("operators:    " + string.Join(", ", info.OperatorCounts.Select(o => string.Create(c, $"{o.Key} x{o.Value}"))));
        lines.AddRange(info.Metadata.Select(m => $"metadata:     {m.Key} = {m.Value}"));
        return string.Join(Environment.NewLine, lines);
    }
}
