using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "Parameter Management": access, nested blocks, tied parameters.</summary>
internal static class ParameterManagement
{
    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "Parameter Management");
        var net = Net.Sequential().Linear(8).ReLU().Linear(1).Build();
        var x = rand(2, 4);
        output.WriteLine($"net(X).shape = {Print.Shape(net.forward(x))}");

        output.WriteLine("net[2].state_dict(): " + string.Join(", ", net[2].state_dict().Select(kv => $"{kv.Key}: {Print.Values(kv.Value)}")));
        var bias = net.Layer<Linear>(2).Bias!;
        output.WriteLine($"type(net[2].bias) = {bias.GetType().FullName}, net[2].bias.data = {Print.Values(bias)}");
        output.WriteLine($"net[2].weight.grad is None: {net.Layer<Linear>(2).Weight!.grad is null}");
        output.WriteLine("net[0].named_parameters(): " + string.Join(", ", net[0].named_parameters().Select(p => $"('{p.name}', {Print.Shape(p.parameter)})")));
        output.WriteLine("net.named_parameters():    " + string.Join(", ", net.named_parameters().Select(p => $"('{p.name}', {Print.Shape(p.parameter)})")));
        output.WriteLine($"net.state_dict()[\"2.bias\"] = {Print.Values(net.state_dict()["2.bias"])}");

        var rgnet = ChapterNetworks.RgNet();
        output.WriteLine($"rgnet(X) = {Print.Values(rgnet.forward(x))}");
        output.WriteLine(rgnet.ToString());
        var nested = ((Core.Blocks.Sequential)((Core.Blocks.Sequential)rgnet[0])[1]).Layer<Linear>(0).Bias!;
        output.WriteLine($"rgnet[0][1][0].bias.data = {Print.Values(nested)}");
        exports.Check("rgnet", rgnet, InputSpec.Float32("input", Dim.Named("batch"), 4), rand(1, 4), rand(7, 4), rand(64, 4));

        var tied = ChapterNetworks.TiedNet(out _);
        tied.forward(x);
        var (w2, w4) = (tied.Layer<Linear>(2).Weight!, tied.Layer<Linear>(4).Weight!);
        output.WriteLine($"net[2].weight.data[0] == net[4].weight.data[0]: {Print.Values(w2[0].eq(w4[0]))}");
        using (no_grad()) w2[0, 0] = tensor(100f);
        output.WriteLine($"after net[2].weight.data[0, 0] = 100: {Print.Values(w2[0].eq(w4[0]))}, net[4].weight[0, 0] = {w4[0, 0].item<float>()}");
        exports.Check("tied", tied, InputSpec.Float32("input", Dim.Named("batch"), 4), rand(1, 4), rand(7, 4), rand(64, 4));
        var names = Onnx.OnnxFiles.ReadModel(Path.Combine(exports.Root, "tied", "model.onnx")).Graph.Initializer.Select(i => i.Name).ToList();
        output.WriteLine($"  tied export initializers: {string.Join(", ", names)} ({(names.Contains("4.weight") ? "the shared layer is stored twice" : "the shared layer at 2 and 4 is stored once")})");
    }
}
