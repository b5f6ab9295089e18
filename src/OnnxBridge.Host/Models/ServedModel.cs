using System.Globalization;
using OnnxBridge.Host.Batching;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Repository;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Models;

/// <summary>
/// One loaded version of a model: its ONNX Runtime session, configuration and batcher. Requests
/// hold it with <see cref="TryAcquire"/>/<see cref="ReleaseAsync"/>; once <see cref="RetireAsync"/> is
/// called (unload, or a newer load replaced it) it takes no new requests and frees the session
/// after the last request in flight has finished — so reloading never drops a request.
/// </summary>
internal sealed class ServedModel
{
    private readonly object _gate = new();
    private readonly HostMetrics? _metrics;
    private readonly RunPlacement _placement = new();
    private int _users;
    private bool _retired;
    private bool _closed;

    private ServedModel(string name, long version, ModelConfig config, OnnxModelSession session, HostMetrics? metrics)
    {
        Name = name;
        Version = version;
        Config = config;
        Session = session;
        var versionText = VersionText;
        BatchDimension = config.MaxBatchSize > 0 && session.Inputs.Concat(session.Outputs).All(t => t.Shape.Count > 0 && t.Shape[0] < 0);
        if (config.MaxBatchSize > 0 && !BatchDimension)
            throw new FormatException($"model '{name}' version {versionText}: config.pbtxt sets max_batch_size {config.MaxBatchSize}, but not every input and output has a dynamic first dimension to batch along");
        Batcher = BatchDimension && config.DynamicBatching ? new DynamicBatcher(session, _placement, Statistics, config.MaxBatchSize, config.MaxQueueDelay, metrics, name, versionText) : null;
        _metrics = metrics;
    }

    public string Name { get; }

    public long Version { get; }

    public string VersionText => Version.ToString(CultureInfo.InvariantCulture);

    public ModelConfig Config { get; }

    /// <summary>The version's counters for the statistics extension.</summary>
    public ModelStatistics Statistics { get; } = new();

    public OnnxModelSession Session { get; }

    /// <summary>Whether dimension 0 of every input and output is the batch (Triton's max_batch_size &gt; 0).</summary>
    public bool BatchDimension { get; }

    /// <summary>The dynamic batcher, when the configuration turns it on.</summary>
    public DynamicBatcher? Batcher { get; }

    /// <summary>Opens <paramref name="modelPath"/> with the host's ONNX Runtime settings.</summary>
    public static ServedModel Open(string name, long version, string modelPath, ModelConfig config, OnnxRuntimeOptions runtime, HostMetrics? metrics, Action<string>? log)
    {
        var session = OnnxModelSession.Open(modelPath, runtime, log);
        try
        {
            return new ServedModel(name, version, config, session, metrics);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    /// <summary>Runs one request: through the batcher when there is one, directly otherwise.</summary>
    public Task<IReadOnlyList<NamedTensor>> RunAsync(IReadOnlyList<NamedTensor> inputs, long rows)
    {
        if (Batcher is not null) return Batcher.RunAsync(inputs, rows, company: Volatile.Read(ref _users) > 1);
        _metrics?.Batch(Name, VersionText, rows);
        return _placement.RunAsync(() =>
        {
            var start = System.Diagnostics.Stopwatch.GetTimestamp();
            var outputs = Session.Run(inputs);
            Statistics.Queued(TimeSpan.Zero);
            Statistics.Executed(rows, 1, System.Diagnostics.Stopwatch.GetElapsedTime(start));
            return outputs;
        });
    }

    /// <summary>Counts a request in, unless the version is retired.</summary>
    public bool TryAcquire()
    {
        lock (_gate)
        {
            if (_retired) return false;
            _users++;
            return true;
        }
    }

    /// <summary>Counts a request out; the last one out of a retired version closes it.</summary>
    public ValueTask ReleaseAsync()
    {
        lock (_gate)
        {
            _users--;
            if (!_retired || _users > 0) return ValueTask.CompletedTask;
        }
        return CloseAsync();
    }

    /// <summary>Takes no new requests; closes now if none is in flight, else when the last one ends.</summary>
    public ValueTask RetireAsync()
    {
        lock (_gate)
        {
            _retired = true;
            if (_users > 0) return ValueTask.CompletedTask;
        }
        return CloseAsync();
    }

    private async ValueTask CloseAsync()
    {
        lock (_gate)
        {
            if (_closed) return;
            _closed = true;
        }
        if (Batcher is not null) await Batcher.DisposeAsync().ConfigureAwait(false);
        Session.Dispose();
    }
}
