using System.Diagnostics;

namespace OnnxBridge.Host.Batching;

/// <summary>
/// Where a model version's runs execute. Kestrel runs request code on its socket threads here
/// (<c>UnsafePreferInlineScheduling</c>: one thread wake-up less per request, most of a small
/// model's latency), but a long run on such a thread would stall every connection it serves. So a
/// run stays on the request's thread while the version's recent runs average under a millisecond,
/// and goes to a thread of its own otherwise — including the first, before anything is measured.
/// </summary>
internal sealed class RunPlacement
{
    private const double InlineLimitSeconds = 0.001;

    // Exponentially weighted mean of recent run times, in seconds; starts at the limit (not inline).
    private double _average = InlineLimitSeconds;

    /// <summary>Whether the next run may take the request's own thread.</summary>
    public bool Inline => Volatile.Read(ref _average) < InlineLimitSeconds;

    /// <summary>Runs <paramref name="run"/> where it belongs and records how long it took.</summary>
    public Task<T> RunAsync<T>(Func<T> run)
    {
        // A long run gets a thread of its own: on the pool it would hold one of a few-core machine's
        // few workers, and everything else (other requests, /metrics) would wait for more to be added.
        if (!Inline) return Task.Factory.StartNew(() => Timed(run), CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
        try
        {
            return Task.FromResult(Timed(run));
        }
        catch (Exception e)
        {
            return Task.FromException<T>(e);
        }
    }

    private T Timed<T>(Func<T> run)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            return run();
        }
        finally
        {
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            // Races between concurrent runs only blur the average; it needs no lock.
            Volatile.Write(ref _average, 0.8 * Volatile.Read(ref _average) + 0.2 * seconds);
        }
    }
}
