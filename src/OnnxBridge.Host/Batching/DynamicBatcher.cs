using System.Diagnostics;
using System.Threading.Channels;
using OnnxBridge.Host.Observability;
using OnnxBridge.Host.Protocol;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host.Batching;

/// <summary>
/// Triton's dynamic batching for one model version: requests queue; a single worker takes the
/// first, then merges whatever else is queued — waiting up to the model's maximum queue delay for
/// more — until the maximum batch size, runs the model once on the rows stacked along the batch
/// dimension, and hands each request its own rows back. Requests whose non-batch dimensions differ
/// go to the next batch. Row-major tensors make stacking and splitting plain byte copies.
/// </summary>
internal sealed class DynamicBatcher : IAsyncDisposable
{
    private readonly Channel<Pending> _queue = Channel.CreateUnbounded<Pending>(new UnboundedChannelOptions { SingleReader = true });
    private readonly OnnxModelSession _session;
    private readonly int _maxBatch;
    private readonly TimeSpan _maxDelay;
    private readonly HostMetrics? _metrics;
    private readonly (string Model, string Version) _id;
    private readonly Task _worker;

    public DynamicBatcher(OnnxModelSession session, int maxBatch, TimeSpan maxDelay, HostMetrics? metrics, string model, string version)
    {
        _session = session;
        _maxBatch = maxBatch;
        _maxDelay = maxDelay;
        _metrics = metrics;
        _id = (model, version);
        _worker = Task.Run(WorkAsync);
    }

    /// <summary>Queues a request of <paramref name="rows"/> rows; completes with its outputs.</summary>
    public Task<IReadOnlyList<NamedTensor>> RunAsync(IReadOnlyList<NamedTensor> inputs, long rows)
    {
        var pending = new Pending(inputs, rows, Stopwatch.GetTimestamp(), new TaskCompletionSource<IReadOnlyList<NamedTensor>>(TaskCreationOptions.RunContinuationsAsynchronously));
        _metrics?.Pending(_id.Model, _id.Version, +1);
        if (!_queue.Writer.TryWrite(pending))
        {
            _metrics?.Pending(_id.Model, _id.Version, -1);
            throw InferenceError.Unavailable($"model '{_id.Model}' version {_id.Version} is shutting down");
        }
        return pending.Result.Task;
    }

    /// <summary>Stops taking requests, finishes the queued ones, then returns.</summary>
    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _worker.ConfigureAwait(false);
    }

    private async Task WorkAsync()
    {
        Pending? carried = null;
        while (true)
        {
            var first = carried;
            carried = null;
            if (first is null)
            {
                if (!await _queue.Reader.WaitToReadAsync().ConfigureAwait(false)) return;
                if (!_queue.Reader.TryRead(out first)) continue;
            }
            var batch = new List<Pending> { first };
            var rows = first.Rows;
            var deadline = Stopwatch.GetTimestamp() + (long)(_maxDelay.TotalSeconds * Stopwatch.Frequency);
            while (rows < _maxBatch)
            {
                if (_queue.Reader.TryRead(out var next))
                {
                    if (rows + next.Rows > _maxBatch || !SameItemShapes(first, next))
                    {
                        carried = next;
                        break;
                    }
                    batch.Add(next);
                    rows += next.Rows;
                    continue;
                }
                var left = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), deadline);
                if (left <= TimeSpan.Zero || !await WaitForMoreAsync(left).ConfigureAwait(false)) break;
            }
            Execute(batch, rows);
        }
    }

    private async Task<bool> WaitForMoreAsync(TimeSpan left)
    {
        using var timeout = new CancellationTokenSource(left);
        try
        {
            return await _queue.Reader.WaitToReadAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private void Execute(List<Pending> batch, long rows)
    {
        var started = Stopwatch.GetTimestamp();
        foreach (var p in batch)
        {
            _metrics?.Queued(_id.Model, _id.Version, Stopwatch.GetElapsedTime(p.Enqueued, started));
            _metrics?.Pending(_id.Model, _id.Version, -1);
        }
        _metrics?.Batch(_id.Model, _id.Version, rows);
        try
        {
            if (batch.Count == 1)
            {
                batch[0].Result.TrySetResult(_session.Run(batch[0].Inputs));
                return;
            }
            var outputs = _session.Run(Stack(batch, rows));
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
