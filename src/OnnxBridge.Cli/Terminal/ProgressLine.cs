using System.Globalization;

namespace OnnxBridge.Cli.Terminal;

/// <summary>
/// Progress for long steps. On an interactive terminal one line is redrawn in place (a bar with
/// the percentage and the caller's status); otherwise — CI logs, files, tests — only the finished
/// steps are printed, one plain line each, with no control characters.
/// </summary>
internal sealed class ProgressLine
{
    private readonly TextWriter _output;
    private readonly bool _interactive;
    private int _lastWidth;
    private long _lastDraw;

    public ProgressLine(TextWriter output)
    {
        _output = output;
        _interactive = ReferenceEquals(output, Console.Out) && !Console.IsOutputRedirected
                       && string.IsNullOrEmpty(Environment.GetEnvironmentVariable("CI"));
    }

    /// <summary>Shows <paramref name="done"/> of <paramref name="total"/>; redraws in place on a terminal, silent otherwise.</summary>
    public void Update(string label, int done, int total, string status)
    {
        if (!_interactive) return;
        // Redraw at most 20 times a second: a fast loop must not spend its time in the terminal.
        var now = System.Diagnostics.Stopwatch.GetTimestamp();
        if (done < total && System.Diagnostics.Stopwatch.GetElapsedTime(_lastDraw, now).TotalMilliseconds < 50) return;
        _lastDraw = now;
        const int width = 24;
        var filled = total == 0 ? width : done * width / total;
        var line = string.Create(CultureInfo.InvariantCulture, $"      {label} [{new string('#', filled)}{new string('.', width - filled)}] {100 * done / Math.Max(total, 1),3}% {status}");
        _output.Write("\r" + line.PadRight(_lastWidth));
        _lastWidth = line.Length;
    }

    /// <summary>Ends the step with a permanent line.</summary>
    public void Complete(string line)
    {
        if (_interactive && _lastWidth > 0) _output.Write("\r" + new string(' ', _lastWidth) + "\r");
        _lastWidth = 0;
        _output.WriteLine(line);
    }
}
