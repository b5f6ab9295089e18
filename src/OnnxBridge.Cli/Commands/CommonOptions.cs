using System.CommandLine;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>Options shared by several commands.</summary>
internal static class CommonOptions
{
    public static Option<ExecutionProviderPolicy> ExecutionProvider(ExecutionProviderPolicy defaultPolicy) => new("--ep")
    {
        Description = "ONNX Runtime execution provider: cpu, cuda (fails if CUDA cannot be loaded) or auto (CUDA if possible, else CPU, and says so)",
        DefaultValueFactory = _ => defaultPolicy,
    };

    public static Option<long> MaxParameters() => new("--max-parameters")
    {
        Description = "the most parameters and buffer elements an architecture file's network may allocate, all layers together",
        DefaultValueFactory = _ => Core.Architecture.ArchitectureJson.DefaultMaxParameters,
    };

    public static Option<int> DeviceId() => new("--device-id")
    {
        Description = "CUDA device index for --ep cuda|auto",
        DefaultValueFactory = _ => 0,
    };
}
