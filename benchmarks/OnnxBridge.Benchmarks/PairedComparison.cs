using System.Diagnostics;
using System.Globalization;

namespace OnnxBridge.Benchmarks;

/// <summary>
/// <c>paired lstm|transformer [batch] [pairs]</c>: our training step against TorchSharp's, timed in
/// interleaved pairs (baseline then ours, then ours then baseline, alternating) and reported as the
/// median of the per-pair ratios with its quartiles. BenchmarkDotNet runs all of one method's
/// iterations before the other's, so on a shared machine a slow minute lands on one side and swung
/// its ratios by ±30 %; interleaving puts both sides of each ratio in the same moment.
/// </summary>
internal static class PairedComparison
{
    public static int Run(string[] args)
    {
        var network = args.Length > 1 ? args[1] : "transformer";
        var batch = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 32;
        var pairs = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : batch == 1 ? 200 : 30;
        (Action Setup, Action Baseline, Action Ours, Action Cleanup) steps = network switch
        {
            "lstm" => new RecurrentBenchmarks { Batch = batch } is var r ? (r.Setup, r.PlainStep, r.OursStep, r.Cleanup) : default,
            "transformer" => new TransformerBenchmarks { Batch = batch } is var t ? (t.Setup, t.PlainStep, t.OursStep, t.Cleanup) : default,
            _ => throw new ArgumentException($"paired compares 'lstm' or 'transformer', not '{network}'"),
        };
        steps.Setup();
        try
        {
            for (int i = 0; i < 5; i++) { steps.Baseline(); steps.Ours(); }
            var (baseline, ours, ratios) = (new double[pairs], new double[pairs], new double[pairs]);
            for (int i = 0; i < pairs; i++)
            {
                if (i % 2 == 0) { baseline[i] = Milliseconds(steps.Baseline); ours[i] = Milliseconds(steps.Ours); }
                else { ours[i] = Milliseconds(steps.Ours); baseline[i] = Milliseconds(steps.Baseline); }
                ratios[i] = ours[i] / baseline[i];
            }
            Array.Sort(baseline);
            Array.Sort(ours);
            Array.Sort(ratios);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{network} training step, batch {batch}, {pairs} interleaved pairs: TorchSharp median {baseline[pairs / 2]:0.00} ms, OnnxBridge {ours[pairs / 2]:0.00} ms; " +
                $"per-pair ratio median {ratios[pairs / 2]:0.000} (quartiles {ratios[pairs / 4]:0.000}–{ratios[3 * pairs / 4]:0.000})"));
            return 0;
        }
        finally
        {
            steps.Cleanup();
        }
    }

    private static double Milliseconds(Action step)
    {
        var clock = Stopwatch.StartNew();
        step();
        return clock.Elapsed.TotalMilliseconds;
    }
}
