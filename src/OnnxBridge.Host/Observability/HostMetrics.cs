using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace OnnxBridge.Host.Observability;

/// <summary>
/// The host's instruments, published through OpenTelemetry and scraped at <c>/metrics</c> in
/// Prometheus' format: requests and failures per model and version, request latency, time spent
/// queued for a batch, requests waiting in a batch queue now, and batch sizes.
/// </summary>
public sealed class HostMetrics : IDisposable
{
    /// <summary>The meter name to subscribe to.</summary>
    public const string MeterName = "OnnxBridge.Host";

    private static readonly double[] LatencyBuckets = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly long[] BatchBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256];

    private readonly Meter _meter;
    private readonly Counter<long> _requests;
    private readonly Counter<long> _failures;
    private readonly Histogram<double> _latency;
    private readonly Histogram<double> _queue;
    private readonly Histogram<long> _batch;
    private readonly UpDownCounter<long> _pending;

    public HostMetrics(IMeterFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _meter = factory.Create(MeterName);
        _requests = _meter.CreateCounter<long>("onnxbridge.inference.requests", "{request}", "Inference requests, by model and version");
        _failures = _meter.CreateCounter<long>("onnxbridge.inference.failures", "{request}", "Inference requests that failed, by model, version and HTTP status");
        _latency = _meter.CreateHistogram("onnxbridge.inference.duration", "s", "Time from the request's arrival to its response",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _queue = _meter.CreateHistogram("onnxbridge.inference.queue.duration", "s", "Time a request waited for its batch to start",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        _batch = _meter.CreateHistogram("onnxbridge.inference.batch.size", "{row}", "Rows per model run (dynamic batching merges requests)",
            advice: new InstrumentAdvice<long> { HistogramBucketBoundaries = BatchBuckets });
        // Triton's nv_inference_pending_request_count: what a batch queue holds right now.
        _pending = _meter.CreateUpDownCounter<long>("onnxbridge.inference.pending", "{request}", "Requests waiting in a dynamic-batching queue, by model and version");
    }

    public void Request(string model, string version, int status, TimeSpan duration)
    {
        var tags = new TagList { { "model", model }, { "version", version } };
        _requests.Add(1, tags);
        _latency.Record(duration.TotalSeconds, tags);
        if (status >= 400)
        {
            tags.Add("status", status);
            _failures.Add(1, tags);
        }
    }

    public void Batch(string model, string version, long rows) => _batch.Record(rows, new TagList { { "model", model }, { "version", version } });

    public void Queued(string model, string version, TimeSpan queued) => _queue.Record(queued.TotalSeconds, new TagList { { "model", model }, { "version", version } });

    /// <summary>A request entered (+1) or left (-1) a batch queue.</summary>
    public void Pending(string model, string version, int change) => _pending.Add(change, new TagList { { "model", model }, { "version", version } });

    public void Dispose() => _meter.Dispose();
}
