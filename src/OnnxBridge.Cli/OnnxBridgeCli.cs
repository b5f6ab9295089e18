using System.CommandLine;
using OnnxBridge.Cli.Commands;

namespace OnnxBridge.Cli;

/// <summary>
/// The <c>onnxbridge</c> command tree; <see cref="Invoke"/> runs it in-process (tests do) and is the
/// one place where errors become messages and exit codes.
/// </summary>
public static class OnnxBridgeCli
{
    /// <summary>Exit code for success.</summary>
    public const int Success = 0;

    /// <summary>Exit code when the check ran and failed: parity outside tolerance, a verify case that did not match.</summary>
    public const int CheckFailed = 1;

    /// <summary>Exit code for bad input: a usage error, a malformed or hostile file, a missing file or provider. One line, no stack trace.</summary>
    public const int BadInput = 2;

    /// <summary>Exit code for an internal error: an exception OnnxBridge did not expect, a bug (printed with its stack trace, to report).</summary>
    public const int InternalError = 3;

    /// <summary>Builds the command tree.</summary>
    public static RootCommand Create()
    {
        var root = new RootCommand("OnnxBridge: build networks the PyTorch way in .NET, train them in TorchSharp, export ONNX with proof.\n\n" +
                                   "Exit codes: 0 success, 1 a check ran and failed (parity, verify), 2 bad input, 3 internal error (a bug; please report it).");
        root.Subcommands.Add(QuickstartCommand.Create());
        root.Subcommands.Add(VerifyCommand.Create());
        root.Subcommands.Add(ConformanceCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(BenchOrtCommand.Create());
        root.Subcommands.Add(BenchIoCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ExportCommand.Create());
        root.Subcommands.Add(ImportCommand.Create());
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
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(error);
        var parsed = Create().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var problem in parsed.Errors) error.WriteLine($"error: {problem.Message}");
            error.WriteLine("(see onnxbridge --help, or onnxbridge COMMAND --help)");
            return BadInput;
        }
        try
        {
            try
            {
                return parsed.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
            }
            catch (AggregateException e) when (e.InnerExceptions.Count == 1)
            {
                // An async action's exception (serve) arrives wrapped.
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(e.InnerExceptions[0]).Throw();
                throw;
            }
        }
        catch (Exception e) when (IsBadInput(e))
        {
            error.WriteLine($"error: {e.Message}");
            return BadInput;
        }
        catch (Exception e)
        {
            error.WriteLine($"internal error (a bug in OnnxBridge; please report it with what you ran): {e}");
            return InternalError;
        }
    }

    /// <summary>
    /// Whether <paramref name="e"/> says the input was wrong rather than that OnnxBridge is: every
    /// OnnxBridge error, the file system's (missing, unreadable, disk full), and the argument checks
    /// of the APIs the commands call with the user's values.
    /// </summary>
    internal static bool IsBadInput(Exception e) =>
        e is OnnxBridgeException or IOException or UnauthorizedAccessException or NotSupportedException or FormatException
            or (ArgumentException and not ArgumentNullException);
}
