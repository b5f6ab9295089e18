using OnnxBridge.Core.Init;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "Lazy Initialization": shapes from the first input or from a build without data.</summary>
internal static class DeferredInitialization
{
    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "Lazy Initialization");
        var net = ChapterNetworks.FirstNet();
        output.WriteLine($"net[0].weight before any input: {(net.Layer<Linear>(0).Weight is null ? "<not initialized>" : "?")}; unbuilt blocks: {string.Join(", ", net.UnbuiltBlockPaths())}");
        output.WriteLine(net.ToString());

        // An initializer requested now waits for the shapes and runs when they are known.
        net.Initialize(Initializers.Constant(0.5));
        net.forward(rand(2, 20));
        output.WriteLine($"after net(X): net[0].weight.shape = {Print.Shape(net.Layer<Linear>(0).Weight!)}, all 0.5: {net.Layer<Linear>(0).Weight!.eq(0.5).all().item<bool>()}");

        var built = ChapterNetworks.FirstNet();
        var input = InputSpec.Float32("input", Dim.Named("batch"), 20);
        var outputShape = built.Build(input);
        output.WriteLine($"Build({input}) without data: output {Dim.Format(outputShape)}, net[2].weight.shape = {Print.Shape(built.Layer<Linear>(2).Weight!)}");
        output.WriteLine(ChapterNetworks.TiedNet(out _).Summary(InputSpec.Float32("input", Dim.Named("batch"), 4)).ToString());
        exports.Check("deferred", built, input, rand(1, 20), rand(7, 20), rand(64, 20));
    }
}
