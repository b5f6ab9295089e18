using OnnxBridge.Core.Serialization;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "File I/O": tensors, lists, dicts and model parameters (safetensors files).</summary>
internal static class FileIO
{
    public static void Run(TextWriter output, string folder)
    {
        Print.Heading(output, "File I/O");
        var x = arange(4, ScalarType.Float32);
        TensorFiles.Save(Path.Combine(folder, "x-file.safetensors"), x);
        output.WriteLine($"x2 = {Print.Values(TensorFiles.Load(Path.Combine(folder, "x-file.safetensors")))}");

        var y = zeros(4);
        TensorFiles.SaveList(Path.Combine(folder, "x-files.safetensors"), [x, y]);
        var list = TensorFiles.LoadList(Path.Combine(folder, "x-files.safetensors"));
        output.WriteLine($"(x2, y2) = ({Print.Values(list[0])}, {Print.Values(list[1])})");

        TensorFiles.SaveDict(Path.Combine(folder, "mydict.safetensors"), new Dictionary<string, Tensor> { ["x"] = x, ["y"] = y });
        output.WriteLine("mydict2 = {" + string.Join(", ", TensorFiles.LoadDict(Path.Combine(folder, "mydict.safetensors")).Select(kv => $"'{kv.Key}': {Print.Values(kv.Value)}")) + "}");

        var net = new Mlp();
        var input = randn(2, 20);
        var expected = net.forward(input);
        StateDicts.Save(net, Path.Combine(folder, "mlp.params.safetensors"));
        var clone = new Mlp();
        StateDicts.Load(clone, Path.Combine(folder, "mlp.params.safetensors"));
        output.WriteLine($"clone(X) == Y: {Print.Values(clone.forward(input).eq(expected))}");
    }
}
