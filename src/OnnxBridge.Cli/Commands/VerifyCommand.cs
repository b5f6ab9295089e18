using System.CommandLine;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary><c>onnxbridge verify DIR...</c>: re-runs folders in the ONNX test-case layout under ONNX Runtime.</summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folders") { Description = "test-case folders (model.onnx + test_data_set_N/)", Arity = ArgumentArity.OneOrMore };
        var ep = CommonOptions.ExecutionProvider(ExecutionProviderPolicy.Cpu);
        var device = CommonOptions.DeviceId();
        var atol = new Option<double>("--atol") { Description = "absolute tolerance", DefaultValueFactory = _ => Tolerance.Float32.Absolute };
        var rtol = new Option<double>("--rtol") { Description = "relative tolerance", DefaultValueFactory = _ => Tolerance.Float32.Relative };
        var command = new Command("verify", "Run ONNX test cases (parity bundles) under ONNX Runtime and compare with their recorded outputs.\n\n" +
                                            "Example: onnxbridge verify artifacts/bundles/mlp --ep auto")
        {
            folders, ep, device, atol, rtol,
        };
        command.SetAction(result =>
        {
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            var tolerance = new Tolerance(result.GetValue(atol), result.GetValue(rtol));
            var failed = 0;
            foreach (var folder in result.GetValue(folders)!)
            {
                try
                {
                    var report = BundleVerifier.Verify(folder, result.GetValue(ep), tolerance, result.GetValue(device), output.WriteLine);
                    output.WriteLine(report.Format());
                    if (!report.Passed) failed++;
                }
                catch (Exception e) when (e is ExecutionProviderException or InvalidDataException or NotSupportedException or IOException)
                {
                    error.WriteLine($"error: {folder}: {e.Message}");
                    return OnnxBridgeCli.Error;
                }
            }
            return failed == 0 ? OnnxBridgeCli.Success : OnnxBridgeCli.CheckFailed;
        });
        return command;
    }
}
