using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Values;
using static TorchSharp.torch;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge bench-train</c>: the cost of our abstraction during training. The same network is
/// built twice — with our builder (blocks whose forward goes through <see cref="Value"/>) and as a
/// plain TorchSharp <c>nn.Sequential</c> with the same weights — and one SGD step (forward,
/// cross-entropy, backward, step, all in a dispose scope) is timed for each, alternating in rounds so
/// drift hits both alike. Prints the median step times and the median of the per-round ratios builder/plain (target ≤ 1.05).
/// </summary>
internal static class BenchTrainCommand
{
    public static Command Create()
    {
        var threads = new Option<int>("--threads") { Description = "TorchSharp threads (default: all cores)", DefaultValueFactory = _ => Environment.ProcessorCount };
        var rounds = new Option<int>("--rounds") { Description = "alternating rounds per network", DefaultValueFactory = _ => 30 };
        var steps = new Option<int>("--steps") { Description = "training steps per round", DefaultValueFactory = _ => 20 };
        var command = new Command("bench-train", "Time one training step of networks built with the OnnxBridge builder vs the same networks as plain TorchSharp nn.Sequential, in one process.\n\n" +
                                                 "Example: onnxbridge bench-train --threads 2")
        {
            threads, rounds, steps,
        };
        command.SetAction(r => Run(r.GetValue(threads), r.GetValue(rounds), r.GetValue(steps), r.InvocationConfiguration.Output));
        return command;
    }

    public static int Run(int threads, int rounds, int steps, TextWriter output)
    {
        var c = CultureInfo.InvariantCulture;
        set_num_threads(threads);
        output.WriteLine(string.Create(c, $"one SGD step (momentum 0.9) in training mode, float32, {threads} thread(s); median over {rounds} alternating rounds of {steps} steps"));
        output.WriteLine(string.Create(c, $"{"network",-38} {"batch",5} {"builder ms",11} {"plain ms",9} {"builder/plain",14}"));
        foreach (var (name, batch, features, ours, plain) in Cases())
        {
            var x = randn(batch, features);
            var y = randint(10, [batch]);
            CopyWeights(ours, plain);
            var (oursMs, plainMs, ratio) = Compare(ours, plain, x, y, rounds, steps);
            output.WriteLine(string.Create(c, $"{name,-38} {batch,5} {oursMs,11:0.000} {plainMs,9:0.000} {ratio,14:0.000}"));
        }
        return OnnxBridgeCli.Success;
    }

    /// <summary>The networks compared, each built twice with the same architecture (the BenchmarkDotNet suite measures the same ones).</summary>
    internal static IEnumerable<(string Name, int Batch, int Features, Block Ours, nn.Module<Tensor, Tensor> Plain)> Cases()
    {
        random.manual_seed(0);
        var small = InputSpec.Float32("x", Dim.Named("batch"), 64);
        yield return ("MLP 64-256-256-10 (digits-sized)", 32, 64,
            Net.Sequential().Linear(256).ReLU().Linear(256).ReLU().Linear(10).Input(small).Build(),
            nn.Sequential(nn.Linear(64, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10)));
        yield return ("MLP 784-1024-1024-10", 64, 784,
            Net.Sequential().Linear(1024).ReLU().Linear(1024).ReLU().Linear(10).Input(InputSpec.Float32("x", Dim.Named("batch"), 784)).Build(),
            nn.Sequential(nn.Linear(784, 1024), nn.ReLU(), nn.Linear(1024, 1024), nn.ReLU(), nn.Linear(1024, 10)));
        yield return ("digits CNN (conv-bn-pool x2, dropout)", 32, 64,
            Net.Sequential().Unflatten(1, 8, 8).LazyConv2d(16, 3, padding: 1).BatchNorm2d(16).ReLU().MaxPool2d(2)
                .LazyConv2d(32, 3, padding: 1).ReLU().MaxPool2d(2).Flatten().Dropout(0.25).Linear(10).Input(small).Build(),
            nn.Sequential(nn.Unflatten(1, [1, 8, 8]), nn.Conv2d(1, 16, 3, padding: 1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
                nn.Conv2d(16, 32, 3, padding: 1), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Dropout(0.25), nn.Linear(32 * 2 * 2, 10)));
        yield return ("GELU/LayerNorm MLP 64-256-256-10", 32, 64,
            Net.Sequential().Linear(64, 256).LayerNorm(256).GELU().Linear(256, 256).LayerNorm(256).GELU().Linear(256, 10).Build(),
            nn.Sequential(nn.Linear(64, 256), nn.LayerNorm([256]), nn.GELU(), nn.Linear(256, 256), nn.LayerNorm([256]), nn.GELU(), nn.Linear(256, 10)));
        yield return ("ResNet basic blocks (8x8, 16 channels)", 32, 64,
            BenchNetworks.ResNet(),
            nn.Sequential(nn.Unflatten(1, [1, 8, 8]), nn.Conv2d(1, 16, 3, padding: 1, bias: false), nn.BatchNorm2d(16), nn.ReLU(),
                new PlainResidualBlock(16), new PlainResidualBlock(16), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(16, 10)));
    }

    /// <summary>The same block as a plain TorchSharp module, with the same parameter names.</summary>
    private sealed class PlainResidualBlock : nn.Module<Tensor, Tensor>
    {
        private readonly TorchSharp.Modules.Conv2d conv1, conv2;
        private readonly TorchSharp.Modules.BatchNorm2d bn1, bn2;

        public PlainResidualBlock(long channels) : base("BasicBlock")
        {
            conv1 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn1 = nn.BatchNorm2d(channels);
            conv2 = nn.Conv2d(channels, channels, 3, padding: 1, bias: false);
            bn2 = nn.BatchNorm2d(channels);
            RegisterComponents();
        }

        public override Tensor forward(Tensor input) => nn.functional.relu(bn2.forward(conv2.forward(nn.functional.relu(bn1.forward(conv1.forward(input))))) + input);
    }

    /// <summary>Both networks start from the same weights (parameters and buffers), so they do the same arithmetic.</summary>
    internal static void CopyWeights(Block ours, nn.Module<Tensor, Tensor> plain)
    {
        var source = ours.state_dict();
        using var noGrad = no_grad();
        foreach (var (key, target) in plain.state_dict())
        {
            if (!source.TryGetValue(key, out var value) || !value.shape.SequenceEqual(target.shape))
                throw new InvalidOperationException($"bench networks differ at '{key}'");
            target.copy_(value);
        }
    }

    private static (double Ours, double Plain, double Ratio) Compare(Block ours, nn.Module<Tensor, Tensor> plain, Tensor x, Tensor y, int rounds, int steps)
    {
        using var oursOptimizer = optim.SGD(ours.parameters(), 0.01, momentum: 0.9);
        using var plainOptimizer = optim.SGD(plain.parameters(), 0.01, momentum: 0.9);
        ours.train();
        plain.train();
        for (int i = 0; i < 5; i++)
        {
            Step(ours, oursOptimizer, x, y);
            Step(plain, plainOptimizer, x, y);
        }
        var (oursTimes, plainTimes) = (new List<double>(), new List<double>());
        for (int round = 0; round < rounds; round++)
        {
            // Alternate which goes first, so neither always runs on a warmer cache.
            if (round % 2 == 0)
            {
                oursTimes.Add(Time(ours, oursOptimizer, x, y, steps));
                plainTimes.Add(Time(plain, plainOptimizer, x, y, steps));
            }
            else
            {
                plainTimes.Add(Time(plain, plainOptimizer, x, y, steps));
                oursTimes.Add(Time(ours, oursOptimizer, x, y, steps));
            }
        }
        // The ratio is the median of per-round ratios: each pair ran back to back, so drift cancels.
        var ratios = oursTimes.Zip(plainTimes, (o, p) => o / p).ToList();
        return (Timing.Median(oursTimes), Timing.Median(plainTimes), Timing.Median(ratios));
    }

    private static double Time(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, Tensor x, Tensor y, int steps)
    {
        var start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) Step(net, optimizer, x, y);
        return Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps;
    }

    /// <summary>One SGD step: forward, cross-entropy, backward, step, in a dispose scope.</summary>
    internal static void Step(nn.Module<Tensor, Tensor> net, optim.Optimizer optimizer, Tensor x, Tensor y)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        nn.functional.cross_entropy(net.forward(x), y).backward();
        optimizer.step();
    }
}
