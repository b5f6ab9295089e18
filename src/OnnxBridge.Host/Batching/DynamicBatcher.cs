using System.Diagnostics;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Batching;

/// <summary>
/// Dynamic batching for one model version that never costs latency. A request that finds the model
/// idle and no other request in flight runs at once, on its own thread, as without batching.
/// Requests that arrive while a run is in progress, or alongside others, queue; one worker takes the
/// queued requests in order and merges them — up to the maximum batch size, while their non-batch
/// dimensions agree — into the next run, waiting up to the model's maximum queue delay for more
/// (the queue is filling: others are on their way). Each request gets its own rows back: row-major
/// tensors make stacking and splitting plain byte copies, and the results equal unbatched runs.
/// Zero-row requests never merge (there are no rows to split); they run alone.
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly object _gate = new();
    private readonly Queue<Pending> _queue = new();
    private readonly SemaphoreSlim _arrived = new(0);
    private readonly SemaphoreSlim _handoff = new(0);
    private readonly OnnxModelSession _session;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxDelay;
    private readonly HostMetrics? _metrics;
    private readonly (string Model, string Version) _id;
    private bool _running; // a run is in progress, or the worker is draining the queue
    private bool _closed;
    private TaskCompletionSource? _idle;
    private readonly RunPlacement _placement;

    private readonly ModelStatistics _statistics;

    public DynamicBatcher(OnnxModelSession session, RunPlacement placement, ModelStatistics statistics, int maxBatch, TimeSpan maxDelay, HostMetrics? metrics, string model, string version)
    {
        _session = session;
        _statistics = statistics;
        _placement = placement;
        _maxBatch = maxBatch;
        _maxDelay = maxDelay;
        _metrics = metrics;
        _id = (model, version);
        // One thread per batched version, parked until a run ends with requests queued behind it:
        // draining runs the model back to back, which would hold a pool worker (RunPlacement).
        new Thread(Work) { IsBackground = true, Name = $"batcher {model} v{version}" }.Start();
    }

    /// <summary>Runs a request of <paramref name="rows"/> rows now if the model is idle, else in the next batch; completes with its outputs.</summary>
    /// <param name="company">Whether other requests for this version are in flight (being read, queued or run): then this one joins a batch rather than running alone.</param>
    public async Task<IReadOnlyList<NamedTensor>> RunAsync(IReadOnlyList<NamedTensor> inputs, long rows, bool company)
    {
        var alone = new Pending(inputs, rows, Stopwatch.GetTimestamp(), new TaskCompletionSource<IReadOnlyList<NamedTensor>>(TaskCreationOptions.RunContinuationsAsynchronously));
        bool queued;
        lock (_gate)
        {
            if (_closed) throw InferenceError.Unavailable($"model '{_id.Model}' version {_id.Version} is shutting down");
            queued = rows > 0 && (_running || company);
            if (queued)
            {
                _queue.Enqueue(alone);
                _metrics?.Pending(_id.Model, _id.Version, +1);
                _arrived.Release();
                // Idle but not alone: the worker starts a batch, waiting briefly for the company.
                if (!_running) _handoff.Release();
            }
            if (rows > 0) _running = true;
        }
        if (queued) return await alone.Result.Task.ConfigureAwait(false);
        // Idle (or zero rows): run now.
        try
        {
            await _placement.RunAsync(() => Execute([alone], rows)).ConfigureAwait(false);
        }
        finally
        {
            if (rows > 0) Continue();
        }
        return await alone.Result.Task.ConfigureAwait(false);
    }

    /// <summary>Stops taking requests, finishes the queued ones, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        Task? idle = null;
        lock (_gate)
        {
            _closed = true;
            if (_running) idle = (_idle ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;
        }
        if (idle is not null) await idle.ConfigureAwait(false);
        _handoff.Release(); // the worker sees the batcher closed and idle, and ends
    }

    /// <summary>After a run: hands what queued meanwhile to the worker, or marks the model idle.</summary>
    private void Continue()
    {
        lock (_gate)
        {
            if (_queue.Count == 0)
            {
                _running = false;
                _idle?.TrySetResult();
                return;
            }
        }
        _handoff.Release();
    }

    private void Work()
    {
        while (true)
        {
            _handoff.Wait();
            lock (_gate)
            {
                if (_closed && !_running) return;
            }
            Drain();
        }
    }

    /// <summary>Runs the queue's requests, batch after batch, until it is empty; then the model is idle.</summary>
    private void Drain()
    {
        while (true)
        {
            List<Pending> batch;
            long rows;
            lock (_gate)
            {
                if (_queue.Count == 0)
                {
                    _running = false;
                    _idle?.TrySetResult();
                    return;
                }
                batch = [];
                rows = Take(batch, 0);
                ForgetArrivals();
            }
            if (rows < _maxBatch && _maxDelay > TimeSpan.Zero)
            {
                // These requests queued behind a run: the queue is filling. Wait a little for more,
                // up to the configured delay (a request that finds the model idle never waits).
                var deadline = Stopwatch.GetTimestamp() + (long)(_maxDelay.TotalSeconds * Stopwatch.Frequency);
                while (rows < _maxBatch && Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline) is var left && left > TimeSpan.Zero)
                {
                    if (!_arrived.Wait(left)) break;
                    lock (_gate)
                    {
                        var more = Take(batch, rows);
                        ForgetArrivals();
                        if (more == rows && _queue.Count > 0) break; // the next one does not fit: run what we have
                        rows = more;
                    }
                }
            }
            Execute(batch, rows);
        }
    }

    /// <summary>Arrivals already looked at: the next wait is for new ones only. Call under the gate (arrivals are signalled under it).</summary>
    private void ForgetArrivals()
    {
        while (_arrived.Wait(0)) { }
    }

    /// <summary>Moves queued requests that fit onto <paramref name="batch"/>, in order; returns its rows. Call under the gate.</summary>
    private long Take(List<Pending> batch, long rows)
    {
        // The first always goes (the reader refuses requests larger than the batch limit).
        while (_queue.TryPeek(out var next) && (batch.Count == 0 || (rows + next.Rows <= _maxBatch && SameItemShapes(batch[0], next))))
        {
            batch.Add(_queue.Dequeue());
            _metrics?.Pending(_id.Model, _id.Version, -1);
            rows += next.Rows;
        }
        return rows;
    }

    /// <summary>Runs one batch and completes each request's task; returns true (a value for <see cref="RunPlacement.RunAsync{T}"/>).</summary>
    private bool Execute(List<Pending> batch, long rows)
    {
        var started = Stopwatch.GetTimestamp();
        foreach (var p in batch)
        {
            var queued = Stopwatch.GetElapsedTime(p.Enqueued, started);
            _metrics?.Queued(_id.Model, _id.Version, queued);
            _statistics.Queued(queued);
        }
        _metrics?.Batch(_id.Model, _id.Version, rows);
        try
        {
            if (batch.Count == 1)
            {
                var alone = _session.Run(batch[0].Inputs);
                _statistics.Executed(rows, 1, Stopwatch.GetElapsedTime(started));
                batch[0].Result.TrySetResult(alone);
                return true;
            }
            var outputs = _session.Run(Stack(batch, rows));
            _statistics.Executed(rows, batch.Count, Stopwatch.GetElapsedTime(started));
            var offsets = 0L;
            foreach (var p in batch)
            {
                p.Result.TrySetResult([.. outputs.Select(o => new NamedTensor(o.Name, Rows(o, rows, offsets, p.Rows)))]);
                offsets += p.Rows;
            }
        }
        catch (Exception e)
        {
            // ONNX Runtime refusing a validated input is the request's problem; anything else is reported the same way to every request in the batch.
            var error = InferenceError.RunFailed(e);
            foreach (var p in batch) p.Result.TrySetException(error);
        }
        return true;
    }

    /// <summary>The inputs of every request, stacked along dimension 0.</summary>
    private static List<NamedTensor> Stack(List<Pending> batch, long rows)
    {
        var stacked = new List<NamedTensor>(batch[0].Inputs.Count);
        for (int i = 0; i < batch[0].Inputs.Count; i++)
        {
            var template = batch[0].Inputs[i].Tensor;
            var bytes = new byte[batch.Sum(p => p.Inputs[i].Tensor.Bytes.Length)];
            var at = 0;
            foreach (var p in batch)
            {
                p.Inputs[i].Tensor.Bytes.Span.CopyTo(bytes.AsSpan(at));
                at += p.Inputs[i].Tensor.Bytes.Length;
            }
            stacked.Add(new NamedTensor(batch[0].Inputs[i].Name, HostTensor.Wrap(template.ElementType, [rows, .. template.Shape.Skip(1)], bytes)));
        }
        return stacked;
    }

    /// <summary>Rows [start, start + count) of a batched output.</summary>
    private static HostTensor Rows(NamedTensor output, long rows, long start, long count)
    {
        var tensor = output.Tensor;
        if (tensor.Shape.Count == 0 || tensor.Shape[0] != rows)
            throw InferenceError.BadRequest($"output '{output.Name}' has shape {HostTensor.FormatShape(tensor.Shape)}, not {rows} rows: the model cannot be batched along dimension 0");
        var rowBytes = tensor.Bytes.Length / rows;
        return HostTensor.Wrap(tensor.ElementType, [count, .. tensor.Shape.Skip(1)], tensor.Bytes.Slice((int)(start * rowBytes), (int)(count * rowBytes)).ToArray());
    }

    private static bool SameItemShapes(Pending a, Pending b)
    {
        for (int i = 0; i < a.Inputs.Count; i++)
        {
            if (!a.Inputs[i].Tensor.Shape.Skip(1).SequenceEqual(b.Inputs[i].Tensor.Shape.Skip(1))) return false;
        }
        return true;
    }

    private sealed record Pending(IReadOnlyList<NamedTensor> Inputs, long Rows, long Enqueued, TaskCompletionSource<IReadOnlyList<NamedTensor>> Result);
}
