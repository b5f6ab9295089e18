// The inference host on its own: dotnet OnnxBridge.Host.dll --repository DIR [--port 8000] [--address 127.0.0.1]
//   [--ep cpu|cuda|auto] [--intra-op-threads 1] [--inter-op-threads 0] [--execution-mode sequential|parallel]
//   [--spinning on|off] [--graph-optimization disabled|basic|extended|all] [--tf32 on|off] [--max-body-bytes N] [--dynamic-batching on|off] [--max-queue-delay-us N] [--log-format text|json]
using OnnxBridge.Host;

HostSettings settings;
try
{
    settings = HostSettings.From(new ConfigurationBuilder().AddCommandLine(args).Build());
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
return await InferenceHost.RunAsync(settings, Console.Out, Console.Error);
