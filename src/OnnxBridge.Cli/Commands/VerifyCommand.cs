using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// <c>onnxbridge verify DIR...</c>: re-runs folders in the ONNX test-case layout under ONNX Runtime.
/// Every folder is tried; the summary counts passes, tolerance failures and cases that could not
/// run, each with its reason.
/// </summary>
internal static class VerifyCommand
{
    public static Command Create()
    {
        var folders = new Argument<string[]>("folders") { Description = "test-case folders (model.onnx + test_data_set_N/)", Arity = ArgumentArity.OneOrMore };
        var runtime = new RuntimeOptionSet(ExecutionProviderPolicy.Cpu, defaultIntraOpThreads: 0, saveOptimized: true);
        var atol = new Option<double?>("--atol") { Description = $"absolute tolerance (default: by the outputs' element type — {Tolerance.Float32} for float32 and float64, {Tolerance.Float16} for float16, {Tolerance.BFloat16} for bfloat16)" };
        var rtol = new Option<double?>("--rtol") { Description = "relative tolerance (default: by the outputs' element type, as --atol)" };
        var brief = new Option<bool>("--brief") { Description = "one line per case instead of a table" };
        var json = new Option<bool>("--json") { Description = "print one JSON document (cases and summary) instead of text" };
        var timeout = new Option<double>("--timeout") { Description = "seconds each data set may run before ONNX Runtime is stopped and the case counts as could-not-run (an endless Loop, a huge graph)", DefaultValueFactory = _ => DefaultTimeoutSeconds };
        var command = new Command("verify", "Run ONNX test cases (parity bundles, onnx's backend test data) under ONNX Runtime and compare with their recorded outputs.\n\n" +
                                            "Example: onnxbridge verify artifacts/bundles/mlp --ep auto\n" +
                                            "Example: onnxbridge verify /usr/share/libonnx-testdata/data/node/* --brief")
        {
            folders, atol, rtol, brief, json, timeout,
        };
        foreach (var option in runtime.All) command.Options.Add(option);
        command.SetAction(result =>
        {
            var asJson = result.GetValue(json);
            var output = result.InvocationConfiguration.Output;
            var error = result.InvocationConfiguration.Error;
            // In JSON mode the provider notes go to stderr, so stdout stays one document.
            var log = asJson ? (Action<string>)error.WriteLine : output.WriteLine;
            // Either given: that pair (the other from float32's default); neither: each case's outputs' default.
            var tolerance = result.GetValue(atol) is null && result.GetValue(rtol) is null
                ? null
                : new Tolerance(result.GetValue(atol) ?? Tolerance.Float32.Absolute, result.GetValue(rtol) ?? Tolerance.Float32.Relative);
            var limit = result.GetValue(timeout) is var seconds && seconds > 0 && seconds <= int.MaxValue / 1000
                ? TimeSpan.FromSeconds(seconds)
                : throw new UsageException($"--timeout must be a positive number of seconds (at most {int.MaxValue / 1000}), got {seconds}");
            var settings = runtime.Read(result);
            var cases = new List<CaseResult>();
            foreach (var folder in result.GetValue(folders)!)
            {
                try
                {
                    var report = BundleVerifier.Verify(folder, settings, tolerance, log, limit);
                    cases.Add(new CaseResult(folder, report.Passed ? "pass" : "fail", report.Provider, report.MaxAbsoluteError, report.MaxRelativeError, report.Tolerance.ToString(), null));
                    if (asJson) continue;
                    if (result.GetValue(brief))
                        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{(report.Passed ? "PASS" : "FAIL")}  {folder}  max |Δ| {report.MaxAbsoluteError:0.0e+0}"));
                    else
                        output.WriteLine(report.Format());
                }
                catch (Exception e) when (e is not ExecutionProviderException && OnnxBridgeCli.IsBadInput(e))
                {
                    // This case could not run; the others still do. (A missing provider stops them all.)
                    var reason = $"{e.GetType().Name}: {FirstLine(e.Message)}";
                    cases.Add(new CaseResult(folder, "error", null, null, null, null, reason));
                    if (!asJson) output.WriteLine($"ERROR {folder}  {reason}");
                }
            }
            var (passed, failed, errors) = (cases.Count(c => c.Status == "pass"), cases.Count(c => c.Status == "fail"), cases.Count(c => c.Status == "error"));
            if (asJson)
                output.WriteLine(JsonSerializer.Serialize(new { passed, failed, errors, tolerance = tolerance is null ? null : new { tolerance.Absolute, tolerance.Relative }, cases }, JsonOptions));
            else
                output.WriteLine($"verify: {passed} passed, {failed} failed, {errors} could not run");
            return failed == 0 && errors == 0 ? OnnxBridgeCli.Success : errors > 0 && failed == 0 ? OnnxBridgeCli.BadInput : OnnxBridgeCli.CheckFailed;
        });
        return command;
    }

    /// <summary>Five minutes per data set: far more than any test case in onnx's suite needs, far less than forever.</summary>
    public const double DefaultTimeoutSeconds = 300;

    private static string FirstLine(string message) => message.Split('\n')[0].Trim();

    /// <summary>One case in <c>--json</c> output.</summary>
    private sealed record CaseResult(string Folder, string Status, string? Provider, double? MaxAbsoluteError, double? MaxRelativeError, string? Tolerance, string? Error);

    private static readonly JsonSerializerOptions JsonOptions = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // console output, not HTML
        // A case that could not be compared reports an infinite error.
        NumberHandling = System.Text.Json.Serialization.JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}
