using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Init;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Chapter.Sections;

/// <summary>Section "Parameter Initialization": built-in, custom, direct edits, seeds.</summary>
internal static class Initialization
{
    /// <summary>The chapter's <c>my_init</c>: U(-10, 10), then zero every weight with |w| &lt; 5; prints the weight's name and shape.</summary>
    public static Action<Block> MyInit(TextWriter output) => block =>
    {
        if (block is not Linear { Weight: { } weight }) return;
        output.WriteLine($"Init weight {Print.Shape(weight)}");
        nn.init.uniform_(weight, -10, 10);
        weight.mul_(weight.abs().ge(5));
    };

    public static void Run(TextWriter output, ChapterExports exports)
    {
        Print.Heading(output, "Parameter Initialization");
        var x = rand(2, 4);
        var net = Net.Sequential().Linear(8).ReLU().Linear(1).Build();
        net.forward(x);

        net.Initialize(Initializers.Normal(0, 0.01));
        output.WriteLine($"init_normal:   net[0].weight.data[0] = {Print.Values(net.Layer<Linear>(0).Weight![0])}, net[0].bias.data[0] = {net.Layer<Linear>(0).Bias![0].item<float>()}");
        net.Initialize(Initializers.Constant(1));
        output.WriteLine($"init_constant: net[0].weight.data[0] = {Print.Values(net.Layer<Linear>(0).Weight![0])}, net[0].bias.data[0] = {net.Layer<Linear>(0).Bias![0].item<float>()}");
        // init_xavier and init_42 touch only the weight (nn.init.*_(m.weight)); the biases keep their values.
        net[0].Initialize(Initializers.Weight(TensorInit.XavierUniform()));
        net[2].Initialize(Initializers.Weight(TensorInit.Constant(42)));
        output.WriteLine($"xavier on net[0]: {Print.Values(net.Layer<Linear>(0).Weight![0])}; 42 on net[2]: {Print.Values(net.Layer<Linear>(2).Weight!)}");

        net.Initialize(MyInit(output));
        output.WriteLine($"my_init: net[0].weight[:2] = {Print.Values(net.Layer<Linear>(0).Weight![TensorIndex.Slice(0, 2)])}");

        var weight = net.Layer<Linear>(0).Weight!;
        using (no_grad())
        {
            weight.add_(1);
            weight[0, 0] = tensor(42f);
        }
        output.WriteLine($"after += 1 and [0, 0] = 42: net[0].weight.data[0] = {Print.Values(weight[0])}");
        exports.Check("initialized", net, InputSpec.Float32("input", Dim.Named("batch"), 4), rand(1, 4), rand(7, 4), rand(64, 4));

        random.manual_seed(7);
        var a = Net.Sequential().Linear(4, 8).Build();
        random.manual_seed(7);
        var b = Net.Sequential().Linear(4, 8).Build();
        output.WriteLine($"same seed, same initialization: {a.Layer<Linear>(0).Weight!.allclose(b.Layer<Linear>(0).Weight!, rtol: 0, atol: 0)}");
    }
}
