using System.Diagnostics;

namespace OnnxBridge.Cli.Commands;

/// <summary>Timing for the bench commands: medians after a warm-up, robust to the odd slow run.</summary>
internal static class Timing
{
    /// <summary>The median time of <paramref name="run"/> in milliseconds: three warm-up runs, then at least five timed runs and <paramref name="seconds"/> of measuring.</summary>
    public static double MedianMilliseconds(Action run, double seconds)
    {
        for (int i = 0; i < 3; i++) run();
        var times = new List<double>();
        var total = Stopwatch.StartNew();
        while (times.Count < 5 || (total.Elapsed.TotalSeconds < seconds && times.Count < 10_000))
        {
            var start = Stopwatch.GetTimestamp();
            run();
            times.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds);
        }
        return Median(times);
    }

    /// <summary>The median of <paramref name="values"/> (upper median for an even count).</summary>
    public static double Median(List<double> values)
    {
        values.Sort();
        return values[values.Count / 2];
    }
}
