using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "Custom Layers": without parameters (CenteredLayer) and with (MyLinear).</summary>
internal static class CustomLayers
{
    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "Custom Layers");
        var layer = new CenteredLayer();
        output.WriteLine($"CenteredLayer()([1, 2, 3, 4, 5]) = {Print.Values(layer.forward(tensor(new float[] { 1, 2, 3, 4, 5 })))}");
        var centered = new Sequential(new Linear(128), new CenteredLayer());
        output.WriteLine($"net(rand(4, 8)).mean() = {centered.forward(rand(4, 8)).mean().item<float>():0.###e+0}");
        exports.Check("centered", centered, InputSpec.Float32("input", Dim.Named("batch"), 8), rand(1, 8), rand(7, 8), rand(64, 8));

        var linear = new MyLinear(5, 3);
        output.WriteLine($"MyLinear(5, 3).weight = {Print.Values(linear.Weight)}");
        output.WriteLine($"linear(rand(2, 5)) = {Print.Values(linear.forward(rand(2, 5)))}");
        var net = new Sequential(new MyLinear(64, 8), new MyLinear(8, 1));
        output.WriteLine($"net(rand(2, 64)) = {Print.Values(net.forward(rand(2, 64)))}");
        output.WriteLine(net.ToString());
        exports.Check("my-linear", net, InputSpec.Float32("input", Dim.Named("batch"), 64), rand(1, 64), rand(7, 64), rand(64, 64));
    }
}
