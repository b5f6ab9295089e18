using OnnxBridge.Core.Values;
using OnnxBridge.Samples.Chapter.Blocks;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "Layers and Modules": Sequential, MLP, MySequential, FixedHiddenMLP, NestMLP.</summary>
internal static class LayersAndBlocks
{
    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "Layers and Modules");
        var input20 = InputSpec.Float32("input", Dim.Named("batch"), 20);
        var x = rand(2, 20);

        var net = ChapterNetworks.FirstNet();
        output.WriteLine($"net(X).shape = {Print.Shape(net.forward(x))}");
        exports.Check("sequential", net, input20, rand(1, 20), rand(7, 20), rand(64, 20));

        var mlp = new Mlp();
        output.WriteLine($"MLP()(X).shape = {Print.Shape(mlp.forward(x))}");
        exports.Check("mlp", mlp, input20, rand(1, 20), rand(7, 20), rand(64, 20));

        var mySequential = new MySequential(new Core.Layers.Linear(256), new Core.Layers.ReLU(), new Core.Layers.Linear(10));
        output.WriteLine($"MySequential(...)(X).shape = {Print.Shape(mySequential.forward(x))}");
        exports.Check("my-sequential", mySequential, input20, rand(1, 20), rand(7, 20), rand(64, 20));

        var fixedHidden = new FixedHiddenMlp();
        output.WriteLine($"FixedHiddenMLP()(X) = {fixedHidden.forward(x).item<float>():0.####}");
        output.WriteLine($"  rand_weight in parameters(): {fixedHidden.parameters().Any(p => ReferenceEquals(p, fixedHidden.RandWeight))}; " +
                         $"parameters: {string.Join(", ", fixedHidden.named_parameters().Select(p => p.name))}; buffers: {string.Join(", ", fixedHidden.named_buffers().Select(b => b.name))}");
        // Scales chosen so the while loop halves zero, a few and many times: the ONNX Loop must follow each.
        exports.Check("fixed-hidden-mlp", fixedHidden, input20, rand(1, 20) * 1e-3, rand(7, 20), rand(64, 20) * 1e3);

        var chimera = ChapterNetworks.Chimera();
        output.WriteLine($"chimera(X) = {chimera.forward(x).item<float>():0.####}");
        exports.Check("chimera", chimera, input20, rand(1, 20), rand(7, 20), rand(64, 20));
    }
}
