using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Connections;

namespace OnnxBridge.Host.Endpoints;

/// <summary>
/// Gives the few answers Kestrel writes by itself — a request it rejects while parsing, before any
/// of the host's code runs (<c>%00</c> in the path, a malformed request line or header, a request
/// target or headers too large, an unsupported HTTP version) — the host's <c>{"error": ...}</c>
/// body instead of an empty one. Such an answer is recognised on the way out: an HTTP/1.1 4xx or
/// 5xx head written in one piece with <c>Content-Length: 0</c> and <c>Connection: close</c>, which
/// the host's own code never writes (every refusal of ours carries a body). Everything else passes
/// through untouched, at the cost of a prefix comparison per write.
/// </summary>
internal static class ServerRejections
{
    /// <summary>Wraps each HTTP/1.x connection's output (Kestrel's connection middleware).</summary>
    public static ConnectionDelegate Filter(ConnectionDelegate next) => context =>
    {
        context.Transport = new FilteredTransport(context.Transport);
        return next(context);
    };

    /// <summary>The body for a status Kestrel answers by itself.</summary>
    internal static string Message(int status) => status switch
    {
        400 => "malformed HTTP request (its request line, target or headers), rejected before routing",
        408 => "the request headers did not arrive in time",
        414 => "the request target is too long",
        431 => "the request headers are too large",
        505 => "HTTP version not supported",
        _ => $"HTTP {status}",
    };

    /// <summary>
    /// The replacement for <paramref name="written"/> when it is such an empty rejection, else null:
    /// the same status line and headers, <c>Content-Length</c> set to the JSON body that follows.
    /// </summary>
    internal static byte[]? Rewrite(ReadOnlySpan<byte> written)
    {
        if (written.Length < 16 || !written.StartsWith("HTTP/1.1 "u8) || written[9] is not ((byte)'4' or (byte)'5')) return null;
        var end = written.IndexOf("\r\n\r\n"u8);
        if (end < 0 || end + 4 != written.Length) return null;  // not one whole head, or something follows it
        var head = Encoding.ASCII.GetString(written[..(end + 2)]);
        if (!head.Contains("\r\nContent-Length: 0\r\n", StringComparison.OrdinalIgnoreCase)
            || !head.Contains("\r\nConnection: close\r\n", StringComparison.OrdinalIgnoreCase)
            || !int.TryParse(head.AsSpan(9, 3), out var status))
            return null;
        var body = Encoding.UTF8.GetBytes(System.Text.Json.JsonSerializer.Serialize(new { error = Message(status) }));
        var rewritten = new StringBuilder(head.Length + 64);
        foreach (var line in head.Split("\r\n"))
        {
            if (line.Length == 0 || line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase)) continue;
            rewritten.Append(line).Append("\r\n");
        }
        rewritten.Append("Content-Type: application/json\r\nContent-Length: ").Append(body.Length).Append("\r\n\r\n");
        return [.. Encoding.ASCII.GetBytes(rewritten.ToString()), .. body];
    }

    private sealed class FilteredTransport(IDuplexPipe inner) : IDuplexPipe
    {
        public PipeReader Input => inner.Input;

        public PipeWriter Output { get; } = new FilteredWriter(inner.Output);
    }

    /// <summary>
    /// Hands out the inner writer's own memory (no copy); on <see cref="Advance"/> it looks at what
    /// was written and, for an empty rejection, commits the rewritten answer instead.
    /// </summary>
    private sealed class FilteredWriter(PipeWriter inner) : PipeWriter
    {
        private Memory<byte> _lent;

        public override Memory<byte> GetMemory(int sizeHint = 0) => _lent = inner.GetMemory(sizeHint);

        public override Span<byte> GetSpan(int sizeHint = 0) => (_lent = inner.GetMemory(sizeHint)).Span;

        public override void Advance(int bytes)
        {
            if (bytes >= 16 && bytes <= _lent.Length && Rewrite(_lent.Span[..bytes]) is { } answer)
            {
                // Nothing was committed yet: the rejection's bytes are simply not advanced over.
                inner.Advance(0);
                inner.Write(answer);
            }
            else
            {
                inner.Advance(bytes);
            }
            _lent = default;
        }

        public override ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default) => inner.FlushAsync(cancellationToken);

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => inner.Complete(exception);

        public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;
    }
}
