using System.CommandLine;
using OnnxBridge.Host;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary><c>onnxbridge serve</c>: the inference host (<see cref="InferenceHost"/>) on a model repository.</summary>
internal static class ServeCommand
{
    public static Command Create()
    {
        var repository = new Option<string>("--repository") { Description = "model repository in Triton's layout: REPO/NAME/VERSION/model.onnx, optional REPO/NAME/config.pbtxt", Required = true };
        var port = new Option<int>("--port") { Description = "TCP port of the REST API", DefaultValueFactory = _ => 8000 };
        var grpcPort = new Option<string>("--grpc-port") { Description = "TCP port of the gRPC API (HTTP/2 without TLS), or off", DefaultValueFactory = _ => "8001" };
        var address = new Option<string>("--address") { Description = "address to listen on (loopback unless you choose otherwise)", DefaultValueFactory = _ => "127.0.0.1" };
        // One intra-op thread by default: concurrent requests are served best with one thread per run.
        var runtime = new RuntimeOptionSet(ExecutionProviderPolicy.Cpu, defaultIntraOpThreads: 1, saveOptimized: false);
        var maxBody = new Option<long>("--max-body-bytes") { Description = "larger request bodies get 413", DefaultValueFactory = _ => 64L << 20 };
        var batching = new Option<string>("--dynamic-batching") { Description = "on: models whose config.pbtxt has dynamic_batching merge concurrent requests; off: every request runs alone", DefaultValueFactory = _ => "on" };
        var delay = new Option<int?>("--max-queue-delay-us") { Description = "overrides every model's max_queue_delay_microseconds" };
        var logFormat = new Option<string>("--log-format") { Description = "text or json (one JSON object per log line)", DefaultValueFactory = _ => "text" };
        var command = new Command("serve", "Serve a model repository over the Open Inference Protocol (KServe v2 REST and gRPC), with dynamic batching and Prometheus metrics at /metrics.\n\n" +
                                           "Example: onnxbridge serve --repository artifacts/repository --port 8000 --grpc-port 8001")
        {
            repository, port, grpcPort, address, maxBody, batching, delay, logFormat,
        };
        foreach (var option in runtime.All) command.Options.Add(option);
        command.SetAction((result, cancellation) =>
        {
            var settings = new HostSettings
            {
                Repository = result.GetValue(repository)!,
                Port = result.GetValue(port),
                GrpcPort = result.GetValue(grpcPort) is "off" ? null
                    : int.TryParse(result.GetValue(grpcPort), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var g) && g <= 65535 ? g
                    : throw new UsageException($"--grpc-port '{result.GetValue(grpcPort)}' is not a port number or off"),
                Address = result.GetValue(address)!,
                Runtime = runtime.Read(result),
                MaxRequestBodyBytes = result.GetValue(maxBody),
                DynamicBatching = result.GetValue(batching) switch
                {
                    "on" => true,
                    "off" => false,
                    var other => throw new UsageException($"--dynamic-batching '{other}' is not on or off"),
                },
                MaxQueueDelay = result.GetValue(delay) is { } us ? TimeSpan.FromMicroseconds(us) : null,
                JsonLogs = result.GetValue(logFormat) switch
                {
                    "json" => true,
                    "text" => false,
                    var other => throw new UsageException($"--log-format '{other}' is not text or json"),
                },
            };
            return InferenceHost.RunAsync(settings, result.InvocationConfiguration.Output, result.InvocationConfiguration.Error);
        });
        return command;
    }
}
