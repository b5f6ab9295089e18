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

    /// <summary>A snapshot of the counters as Triton's <c>inference.ModelStatistics</c> message (the ModelStatistics RPC's form).</summary>
    public Grpc.ModelStatistics ToProto(string name, string version) => new()
    {
        Name = name,
        Version = version,
        LastInference = (ulong)Interlocked.Read(ref _lastInferenceMs),
        InferenceCount = (ulong)Interlocked.Read(ref _inferences),
        ExecutionCount = (ulong)Interlocked.Read(ref _executions),
        InferenceStats = new Grpc.InferStatistics
        {
            Success = Duration(ref _successCount, ref _successNs),
            Fail = Duration(ref _failCount, ref _failNs),
            Queue = Duration(ref _queueCount, ref _queueNs),
            ComputeInfer = Duration(ref _computeCount, ref _computeNs),
        },
    };

    /// <summary>
    /// A snapshot in the JSON form Triton's REST statistics endpoint writes: the message's field
    /// names, counts and nanoseconds as JSON numbers (not protobuf's strings for 64-bit integers).
    /// </summary>
    public static Dictionary<string, object> Json(Grpc.ModelStatistics stats)
    {
        ArgumentNullException.ThrowIfNull(stats);
        var inference = stats.InferenceStats;
        return new()
        {
            ["name"] = stats.Name,
            ["version"] = stats.Version,
            ["last_inference"] = stats.LastInference,
            ["inference_count"] = stats.InferenceCount,
            ["execution_count"] = stats.ExecutionCount,
            ["inference_stats"] = new Dictionary<string, object>
            {
                ["success"] = Json(inference.Success),
                ["fail"] = Json(inference.Fail),
                ["queue"] = Json(inference.Queue),
                ["compute_infer"] = Json(inference.ComputeInfer),
            },
        };
    }

    private static Dictionary<string, ulong> Json(Grpc.StatisticDuration duration) => new() { ["count"] = duration.Count, ["ns"] = duration.Ns };

    private static Grpc.StatisticDuration Duration(ref long count, ref long ns) => new() { Count = (ulong)Interlocked.Read(ref count), Ns = (ulong)Interlocked.Read(ref ns) };

    private static long Nanoseconds(TimeSpan duration) => duration.Ticks * 100;
}
