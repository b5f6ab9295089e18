using System.Diagnostics;

namespace OnnxBridge.Host.Observability;

/// <summary>One structured log entry per request: method, path, status, duration, and the request id when the client sent one.</summary>
internal sealed partial class RequestLogging(RequestDelegate next, ILogger<RequestLogging> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        var start = Stopwatch.GetTimestamp();
        try
        {
            await next(context).ConfigureAwait(false);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            LogRequest(logger, context.Request.Method, context.Request.Path.Value ?? "", context.Response.StatusCode, elapsed, context.Items["request-id"] as string ?? "-");
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Method} {Path} {Status} {DurationMs:0.000} ms {RequestId}")]
    private static partial void LogRequest(ILogger logger, string method, string path, int status, double durationMs, string requestId);
}
