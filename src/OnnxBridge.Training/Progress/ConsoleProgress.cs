using System.Diagnostics;
using System.Globalization;
using OnnxBridge.Training.History;

namespace OnnxBridge.Training.Progress;

/// <summary>
/// Training progress for people. On an interactive terminal, a bar redrawn in place with the
/// epoch, the running loss and accuracy, and the time left; otherwise (CI logs, files, pipes) plain
/// lines only — one per epoch, plus one every <see cref="PlainInterval"/> within a long epoch — with
/// no control characters.
/// </summary>
public sealed class ConsoleProgress : ITrainingObserver
{
    /// <summary>How often a long epoch prints a line when the output is not a terminal.</summary>
    public static readonly TimeSpan PlainInterval = TimeSpan.FromSeconds(10);

    /// <summary>A terminal is redrawn at most ten times a second: a fast loop must not spend its time drawing.</summary>
    private const long RedrawMilliseconds = 100;

    private readonly TextWriter _output;
    private readonly bool _interactive;
    private readonly Stopwatch _clock = new();
    private long _lastDraw;
    private int _lastWidth;
    private int _firstEpoch;
    private int _batchesPerEpoch;
    private int _epochs;

    /// <summary>
    /// Writes to <paramref name="output"/>; redraws in place only when it is the console, the console
    /// is not redirected and <c>CI</c> is unset, unless <paramref name="interactive"/> says otherwise.
    /// </summary>
    public ConsoleProgress(TextWriter output, bool? interactive = null)
    {
        ArgumentNullException.ThrowIfNull(output);
        _output = output;
        _interactive = interactive ?? (ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                                       && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI")));
    }

    /// <inheritdoc/>
    public void OnStart(int firstEpoch, int epochs, int batchesPerEpoch)
    {
        (_firstEpoch, _epochs, _batchesPerEpoch) = (firstEpoch, epochs, batchesPerEpoch);
        _clock.Restart();
        _lastDraw = _interactive ? -RedrawMilliseconds : 0; // a terminal shows the bar at once; a log waits for the interval
        if (firstEpoch > 1) Line($"resuming at epoch {firstEpoch}/{epochs}");
    }

    /// <inheritdoc/>
    public void OnBatch(int epoch, int batch, int batches, double meanLoss, double? accuracy)
    {
        var now = _clock.ElapsedMilliseconds;
        var interval = _interactive ? RedrawMilliseconds : (long)PlainInterval.TotalMilliseconds;
        if (now - _lastDraw < interval || batch == batches) return;
        _lastDraw = now;
        var status = string.Create(CultureInfo.InvariantCulture, $"loss {meanLoss:F4}{(accuracy is { } a ? $"  acc {a:P1}" : "")}");
        if (!_interactive)
        {
            _output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"epoch {epoch}: batch {batch}/{batches}  {status}"));
            return;
        }
        const int width = 20;
        var filled = batch * width / Math.Max(batches, 1);
        var eta = Remaining(epoch, batch);
        var line = string.Create(CultureInfo.InvariantCulture, $"epoch {epoch} [{new string('#', filled)}{new string('.', width - filled)}] {batch}/{batches}  {status}  ETA {Format(eta)}");
        _output.Write("\r" + line.PadRight(_lastWidth));
        _lastWidth = line.Length;
    }

    /// <inheritdoc/>
    public void OnEpoch(EpochMetrics metrics, int epochs)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var text = string.Create(CultureInfo.InvariantCulture, $"epoch {metrics.Epoch}/{epochs}  loss {metrics.TrainLoss:F4}");
        if (metrics.TrainAccuracy is { } a) text += string.Create(CultureInfo.InvariantCulture, $"  acc {a:P2}");
        if (metrics.ValidationLoss is { } vl) text += string.Create(CultureInfo.InvariantCulture, $"  val_loss {vl:F4}");
        if (metrics.ValidationAccuracy is { } va) text += string.Create(CultureInfo.InvariantCulture, $"  val_acc {va:P2}");
        text += string.Create(CultureInfo.InvariantCulture, $"  lr {metrics.LearningRate:G3}  {metrics.Seconds:F1}s");
        if (metrics.Epoch < epochs) text += $"  ETA {Format(Remaining(metrics.Epoch + 1, 0))}";
        Line(text);
    }

    /// <inheritdoc/>
    public void OnMessage(string message) => Line(message);

    /// <summary>Time left, extrapolated from the batches done since <see cref="OnStart"/>: to the end of the run.</summary>
    private TimeSpan Remaining(int epoch, int batch)
    {
        var done = (long)(epoch - _firstEpoch) * _batchesPerEpoch + batch;
        if (done <= 0) return TimeSpan.Zero;
        var perBatch = _clock.Elapsed.TotalSeconds / done;
        var left = (long)(_epochs - epoch + 1) * _batchesPerEpoch - batch;
        return TimeSpan.FromSeconds(perBatch * Math.Max(left, 0));
    }

    private void Line(string text)
    {
        if (_interactive && _lastWidth > 0) _output.Write("\r" + new string(' ', _lastWidth) + "\r");
        _lastWidth = 0;
        _output.WriteLine(text);
    }

    private static string Format(TimeSpan span) =>
        span.TotalHours >= 1 ? span.ToString(@"h\:mm\:ss", CultureInfo.InvariantCulture) : span.ToString(@"m\:ss", CultureInfo.InvariantCulture);
}
