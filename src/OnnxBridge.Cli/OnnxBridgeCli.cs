using System.CommandLine;
using OnnxBridge.Cli.Commands;

namespace OnnxBridge.Cli;

/// <summary>The <c>onnxbridge</c> command tree; <see cref="Invoke"/> runs it in-process (tests do).</summary>
public static class OnnxBridgeCli
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;

    /// <summary>Exit code when a check ran and failed (parity outside tolerance).</summary>
    public const int CheckFailed = 1;

    /// <summary>Exit code when the command could not do its job (bad input, missing provider).</summary>
    public const int Error = 2;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("OnnxBridge: build networks the PyTorch way in .NET, train them in TorchSharp, export ONNX with proof.");
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(BenchIoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(BenchTrainCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(BenchServeCommand.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/>, writing to the given writers; returns the exit code.</summary>
    public static int Invoke(string[] args, TextWriter output, TextWriter error)
    {
        ArgumentNullException.ThrowIfNull(args);
        return Create().Parse(args).Invoke(new InvocationConfiguration { Output = output, Error = error });
    }
}
