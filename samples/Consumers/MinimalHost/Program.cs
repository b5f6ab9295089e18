// Serves a Triton-layout model repository over KServe v2 REST (and gRPC) until Ctrl+C or SIGTERM.
// Run: dotnet run -- REPOSITORY [PORT]
using OnnxBridge.Host;

if (args.Length == 0)
{
    Console.Error.WriteLine("usage: MinimalHost REPOSITORY [PORT]");
    return 2;
}
var settings = new HostSettings
{
    Repository = args[0],
    Port = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 8000,
    GrpcPort = null,   // REST only here; set a port to serve gRPC beside it
};
return await InferenceHost.RunAsync(settings, Console.Out, Console.Error);
