using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using OnnxBridge.Host.Endpoints;
using OnnxBridge.Host.Models;
using OnnxBridge.Host.Observability;
using OpenTelemetry.Metrics;

namespace OnnxBridge.Host;

/// <summary>
/// The inference host: an ASP.NET Core minimal API over Kestrel serving a model repository through
/// the Open Inference Protocol (KServe v2 REST, and gRPC on its own port), with Prometheus metrics at <c>/metrics</c>.
/// </summary>
public static class InferenceHost
{
    /// <summary>
    /// Builds the host and loads the repository. Start it with <c>StartAsync</c> (the bound address is
    /// then in <c>app.Urls</c>); stopping waits for requests in flight, then closes the models.
    /// </summary>
    /// <param name="configureLogging">Adjusts logging (tests capture it); console logging otherwise.</param>
    public static async Task<WebApplication> BuildAsync(HostSettings settings, Action<ILoggingBuilder>? configureLogging = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            // Kestrel's own rejections (a malformed request, before routing) get the host's error body too.
            kestrel.Listen(IPAddress.Parse(settings.Address), settings.Port, listen => listen.Use(Endpoints.ServerRejections.Filter));
            // gRPC needs HTTP/2; without TLS there is no negotiation, so its port speaks HTTP/2 only.
            if (settings.GrpcPort is { } grpcPort) kestrel.Listen(IPAddress.Parse(settings.Address), grpcPort, listen => listen.Protocols = HttpProtocols.Http2);
            kestrel.Limits.MaxRequestBodySize = settings.MaxRequestBodyBytes;
            kestrel.AddServerHeader = false;
        });
        // Run request code on the socket's own thread instead of hopping to the thread pool: one thread
        // wake-up less per request, which is most of a small model's latency on a busy few-core machine.
        builder.WebHost.UseSockets(sockets => sockets.UnsafePreferInlineScheduling = true);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = settings.ShutdownTimeout);
        builder.Logging.ClearProviders();
        if (configureLogging is not null) configureLogging(builder.Logging);
        else if (settings.JsonLogs) builder.Logging.AddJsonConsole();
        else builder.Logging.AddSimpleConsole(o => o.SingleLine = true);
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);

        builder.Services.AddSingleton(settings);
        builder.Services.AddGrpc(grpc =>
        {
            grpc.MaxReceiveMessageSize = (int)Math.Min(settings.MaxRequestBodyBytes, int.MaxValue);
            grpc.MaxSendMessageSize = null;
        });
        builder.Services.AddSingleton<HostMetrics>();
        builder.Services.AddSingleton<ModelRegistry>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics.AddMeter(HostMetrics.MeterName).AddPrometheusExporter());

        var app = builder.Build();
        app.UseMiddleware<RequestLogging>();
        app.Use((context, next) =>
        {
            // gRPC holds each message to the limit itself (MaxReceiveMessageSize), reading the length
            // prefix first, and answers RESOURCE_EXHAUSTED; Kestrel's body limit would end the call
            // as an unknown handler error instead.
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
                && context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
                limit.MaxRequestBodySize = null;
            return next(context);
        });
        app.UseExceptionHandler(errors => errors.Run(context => Errors.Write(context, StatusCodes.Status500InternalServerError, "internal server error")));
        app.UseStatusCodePages(context => context.HttpContext.Response.HasStarted || context.HttpContext.Response.ContentLength > 0
            ? Task.CompletedTask
            : Errors.Write(context.HttpContext, context.HttpContext.Response.StatusCode, context.HttpContext.Response.StatusCode switch
            {
                404 => $"no route for {context.HttpContext.Request.Method} {context.HttpContext.Request.Path}",
                405 => $"method {context.HttpContext.Request.Method} is not allowed on {context.HttpContext.Request.Path}",
                var status => $"HTTP {status}",
            }));
        ProtocolEndpoints.Map(app);
        app.MapGrpcService<Grpc.InferenceGrpcService>();
        app.MapPrometheusScrapingEndpoint("/metrics");

        var registry = app.Services.GetRequiredService<ModelRegistry>();
        await registry.LoadAllAsync().ConfigureAwait(false);
        // Kestrel has drained the requests in flight by the time the application has stopped.
        app.Lifetime.ApplicationStopped.Register(() => registry.DisposeAsync().AsTask().GetAwaiter().GetResult());
        return app;
    }

    /// <summary>Runs the host until Ctrl+C or SIGTERM; returns the process exit code.</summary>
    public static async Task<int> RunAsync(HostSettings settings, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        WebApplication app;
        try
        {
            app = await BuildAsync(settings).ConfigureAwait(false);
        }
        catch (Exception e) when (e is DirectoryNotFoundException or IOException or ArgumentException or FormatException)
        {
            await error.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
            return 2;
        }
        await using (app.ConfigureAwait(false))
        {
            await app.StartAsync().ConfigureAwait(false);
            await output.WriteLineAsync($"serving {Path.GetFullPath(settings.Repository)} on {string.Join(", ", app.Urls)} (Open Inference Protocol v2; metrics at /metrics); Ctrl+C stops").ConfigureAwait(false);
            await app.WaitForShutdownAsync().ConfigureAwait(false);
        }
        return 0;
    }
}
