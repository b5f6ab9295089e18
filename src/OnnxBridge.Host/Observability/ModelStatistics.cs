namespace OnnxBridge.Host.Observability;

/// <summary>
/// One model version's counters for Triton's statistics extension (<c>GET /v2/models/{m}/stats</c>):
/// requests that succeeded and failed with their total time, time queued for a batch, time in the
/// model, model runs (executions) and rows (inferences), and when the last request arrived.
/// Lock-free: every counter is updated with <see cref="Interlocked"/>.
/// </summary>
internal sealed class ModelStatistics
{
    private long _successCount, _successNs, _failCount, _failNs, _queueCount, _queueNs, _computeCount, _computeNs, _executions, _inferences, _lastInferenceMs;

    /// <summary>A request finished, answered (<paramref name="succeeded"/>) or refused, after <paramref name="duration"/> in all.</summary>
    public void Request(bool succeeded, TimeSpan duration)
    {
        Interlocked.Exchange(ref _lastInferenceMs, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds());
        if (succeeded)
        {
            Interlocked.Increment(ref _successCount);
            Interlocked.Add(ref _successNs, Nanoseconds(duration));
        }
        else
        {
            Interlocked.Increment(ref _failCount);
            Interlocked.Add(ref _failNs, Nanoseconds(duration));
        }
    }

    /// <summary>A request waited <paramref name="queued"/> before its run started.</summary>
    public void Queued(TimeSpan queued)
    {
        Interlocked.Increment(ref _queueCount);
        Interlocked.Add(ref _queueNs, Nanoseconds(queued));
    }

    /// <summary>One model run of <paramref name="rows"/> rows for <paramref name="requests"/> requests took <paramref name="compute"/>.</summary>
    public void Executed(long rows, int requests, TimeSpan compute)
    {
        Interlocked.Increment(ref _executions);
        Interlocked.Add(ref _inferences, rows);
        Interlocked.Add(ref _computeCount, requests);
        Interlocked.Add(ref _computeNs, Nanoseconds(compute) * requests);
    }

    /// <summary>The counters in Triton's JSON form of <c>ModelStatistics</c>.</summary>
    public Dictionary<string, object> ToJson(string name, string version) => new()
    {
        ["name"] = name,
        ["version"] = version,
        ["last_inference"] = Interlocked.Read(ref _lastInferenceMs),
        ["inference_count"] = Interlocked.Read(ref _inferences),
        ["execution_count"] = Interlocked.Read(ref _executions),
        ["inference_stats"] = new Dictionary<string, object>
        {
            ["success"] = Duration(ref _successCount, ref _successNs),
            ["fail"] = Duration(ref _failCount, ref _failNs),
            ["queue"] = Duration(ref _queueCount, ref _queueNs),
            ["compute_infer"] = Duration(ref _computeCount, ref _computeNs),
        },
    };

    private static Dictionary<string, long> Duration(ref long count, ref long ns) => new() { ["count"] = Interlocked.Read(ref count), ["ns"] = Interlocked.Read(ref ns) };

    private static long Nanoseconds(TimeSpan duration) => duration.Ticks * 100;
}
