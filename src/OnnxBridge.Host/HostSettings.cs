using System.Globalization;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Host;

/// <summary>
/// How the host runs. From the command line (<c>--repository DIR --port N</c>, ...) or the
/// <c>onnxbridge serve</c> command. Binds to 127.0.0.1 unless told otherwise: serving to the
/// network is a decision, not a default.
/// </summary>
public sealed record HostSettings
{
    /// <summary>The model repository folder (Triton layout).</summary>
    public required string Repository { get; init; }

    /// <summary>The address to listen on.</summary>
    public string Address { get; init; } = "127.0.0.1";

    /// <summary>The port; 0 picks a free one (tests).</summary>
    public int Port { get; init; } = 8000;

    /// <summary>The gRPC API's TCP port (HTTP/2 without TLS; Triton's default 8001; 0 picks a free one); null serves no gRPC.</summary>
    public int? GrpcPort { get; init; } = 8001;

    /// <summary>
    /// How ONNX Runtime runs every served model: the execution provider (cpu, cuda or auto) and the
    /// rest of <see cref="OnnxRuntimeOptions"/>. One intra-op thread by default: each model then runs
    /// on the request's (or the batcher's) thread, which serves concurrent requests best; more helps
    /// large models at low load.
    /// </summary>
    public OnnxRuntimeOptions Runtime { get; init; } = new() { IntraOpThreads = 1 };

    /// <summary>Requests with a larger body get 413.</summary>
    public long MaxRequestBodyBytes { get; init; } = 64L << 20;

    /// <summary>Whether models whose config asks for dynamic batching get it (off: every request runs alone).</summary>
    public bool DynamicBatching { get; init; } = true;

    /// <summary>Overrides every model's <c>max_queue_delay_microseconds</c> when set.</summary>
    public TimeSpan? MaxQueueDelay { get; init; }

    /// <summary>How long shutdown waits for requests in flight.</summary>
    public TimeSpan ShutdownTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Logs as JSON lines instead of text.</summary>
    public bool JsonLogs { get; init; }

    /// <summary>
    /// Reads settings from configuration (command-line keys: repository, address, port, grpc-port (a
    /// port or off), ep, device-id, intra-op-threads, inter-op-threads, execution-mode
    /// (sequential|parallel), spinning (on|off), graph-optimization (disabled|basic|extended|all),
    /// tf32 (on|off), max-body-bytes, dynamic-batching, max-queue-delay-us, log-format).
    /// </summary>
    /// <exception cref="ArgumentException">A value is missing or malformed; the message names the option.</exception>
    public static HostSettings From(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var repository = configuration["repository"] ?? throw new ArgumentException("give --repository DIR (a model repository in Triton's layout: DIR/NAME/VERSION/model.onnx)");
        var settings = new HostSettings { Repository = repository };
        if (configuration["address"] is { } address) settings = settings with { Address = address };
        if (configuration["port"] is { } port) settings = settings with { Port = Int(port, "--port", 0, 65535) };
        if (configuration["grpc-port"] is { } grpc) settings = settings with { GrpcPort = grpc == "off" ? null : Int(grpc, "--grpc-port", 0, 65535) };
        settings = settings with { Runtime = RuntimeFrom(configuration, settings.Runtime) };
        if (configuration["max-body-bytes"] is { } body) settings = settings with { MaxRequestBodyBytes = Int(body, "--max-body-bytes", 1, int.MaxValue) };
        if (configuration["dynamic-batching"] is { } batching)
            settings = settings with { DynamicBatching = batching is "on" or "true" ? true : batching is "off" or "false" ? false : throw new ArgumentException($"--dynamic-batching '{batching}' is not on or off") };
        if (configuration["max-queue-delay-us"] is { } delay) settings = settings with { MaxQueueDelay = TimeSpan.FromMicroseconds(Int(delay, "--max-queue-delay-us", 0, 10_000_000)) };
        if (configuration["log-format"] is { } format)
            settings = settings with { JsonLogs = format == "json" ? true : format == "text" ? false : throw new ArgumentException($"--log-format '{format}' is not text or json") };
        return settings;
    }

    private static OnnxRuntimeOptions RuntimeFrom(IConfiguration configuration, OnnxRuntimeOptions runtime)
    {
        if (configuration["ep"] is { } ep)
            runtime = runtime with { Policy = Enum.TryParse<ExecutionProviderPolicy>(ep, ignoreCase: true, out var policy) && Enum.IsDefined(policy) ? policy : throw new ArgumentException($"--ep '{ep}' is not cpu, cuda or auto") };
        if (configuration["device-id"] is { } device) runtime = runtime with { DeviceId = Int(device, "--device-id", 0, 1024) };
        if (configuration["intra-op-threads"] is { } threads) runtime = runtime with { IntraOpThreads = Int(threads, "--intra-op-threads", 0, 1024) };
        if (configuration["inter-op-threads"] is { } inter) runtime = runtime with { InterOpThreads = Int(inter, "--inter-op-threads", 0, 1024) };
        if (configuration["execution-mode"] is { } mode)
            runtime = runtime with { ParallelExecution = mode == "parallel" ? true : mode == "sequential" ? false : throw new ArgumentException($"--execution-mode '{mode}' is not sequential or parallel") };
        if (configuration["spinning"] is { } spinning) runtime = runtime with { Spinning = OnOff(spinning, "--spinning") };
        if (configuration["graph-optimization"] is { } level)
            runtime = runtime with { Optimization = Enum.TryParse<GraphOptimization>(level, ignoreCase: true, out var optimization) && Enum.IsDefined(optimization) ? optimization : throw new ArgumentException($"--graph-optimization '{level}' is not disabled, basic, extended or all") };
        if (configuration["tf32"] is { } tf32) runtime = runtime with { Tf32 = OnOff(tf32, "--tf32") };
        return runtime;
    }

    private static bool OnOff(string text, string option) =>
        text is "on" or "true" ? true : text is "off" or "false" ? false : throw new ArgumentException($"{option} '{text}' is not on or off");

    private static int Int(string text, string option, int min, int max) =>
        int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value) && value >= min && value <= max
            ? value : throw new ArgumentException($"{option} '{text}' is not an integer in [{min}, {max}]");
}
