using System.CommandLine;
using System.Globalization;
using Google.Protobuf;
using OnnxBridge.Core.Import;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx;
using OnnxBridge.Onnx.IO;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge import MODEL.onnx --out DIR</c>: an ONNX model as a trainable block. Writes the
/// architecture (the model itself, self-contained, as <c>DIR/model.onnx</c>: an imported graph has
/// no architecture JSON) and its weights under the importer's state-dict keys
/// (<c>DIR/weights.safetensors</c>), which <c>train --onnx</c> and <c>export --onnx</c> take.
/// </summary>
internal static class ImportCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "an ONNX model file (external data is read from its folder)" };
        var output = new Option<string>("--out") { Description = "folder for model.onnx and weights.safetensors", Required = true };
        var command = new Command("import", "Import an ONNX model as trainable OnnxBridge blocks: check every op, list the parameters and buffers, and write the model and its weights for train --onnx and export --onnx.\n\n" +
                                            "Example: onnxbridge import resnet.onnx --out artifacts/imported/resnet")
        {
            model, output,
        };
        command.SetAction(r => Run(r.GetValue(model)!, r.GetValue(output)!, r.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(string modelPath, string folder, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        var proto = OnnxFiles.ReadModel(modelPath);
        var modelFolder = Path.GetDirectoryName(Path.GetFullPath(modelPath))!;
        var block = OnnxImporter.Import(proto, modelFolder);
        Directory.CreateDirectory(folder);
        var model = OnnxFiles.WithInlineData(proto, modelFolder);
        var (modelOut, weightsOut) = (Path.Combine(folder, "model.onnx"), Path.Combine(folder, "weights.safetensors"));
        AtomicFile.WriteAllBytes(modelOut, model.ToByteArray());
        StateDicts.Save(block, weightsOut);

        var parameters = block.named_parameters().ToList();
        var buffers = block.named_buffers().ToList();
        output.WriteLine(string.Create(c, $"imported {modelPath}: opset {block.Opset}, {proto.Graph.Node.Count} nodes"));
        output.WriteLine($"  inputs:  {string.Join(", ", block.Inputs)}");
        output.WriteLine($"  outputs: {string.Join(", ", block.OutputNames)}");
        output.WriteLine(string.Create(c, $"  {parameters.Count} trainable parameters ({parameters.Sum(p => p.parameter.numel()):N0} values), {buffers.Count} buffers ({buffers.Sum(b => b.buffer.numel()):N0} values)"));
        foreach (var (name, parameter) in parameters) output.WriteLine($"    parameter {name} {Core.Values.Dim.Format(parameter.shape.Select(Core.Values.Dim.Known))}");
        foreach (var (name, buffer) in buffers) output.WriteLine($"    buffer    {name} {Core.Values.Dim.Format(buffer.shape.Select(Core.Values.Dim.Known))}");
        if (OnnxImporter.AsSequential(block) is { } sequential)
            output.WriteLine($"  a plain chain of layers, the same keys as a Sequential:\n    {sequential.ToString().Replace("\n", "\n    ", StringComparison.Ordinal)}");
        output.WriteLine($"wrote {modelOut} and {weightsOut}");
        output.WriteLine($"next: onnxbridge train --onnx {modelOut} --weights {weightsOut} --data DATA.csv");
        output.WriteLine($"      onnxbridge export --onnx {modelOut} --weights {weightsOut} --out model.onnx --verify");
        return OnnxBridgeCli.Success;
    }
}
