using System.CommandLine;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// The command-line form of <see cref="OnnxRuntimeOptions"/>, shared by <c>verify</c>, <c>serve</c>
/// and <c>bench</c> so the three spell every ONNX Runtime setting the same way.
/// </summary>
internal sealed class RuntimeOptionSet
{
    private readonly Option<ExecutionProviderPolicy> _ep;
    private readonly Option<int> _device = CommonOptions.DeviceId();
    private readonly Option<int>? _intraOp;
    private readonly Option<int> _interOp = new("--inter-op-threads") { Description = "ONNX Runtime threads across independent operators, used only with --execution-mode parallel (0: its choice)", DefaultValueFactory = _ => 0 };
    private readonly Option<string> _mode = new("--execution-mode") { Description = "sequential (one operator at a time) or parallel (independent branches at once; much slower for small batches here)", DefaultValueFactory = _ => "sequential" };
    private readonly Option<string> _spinning = new("--spinning") { Description = "on: idle ONNX Runtime threads spin waiting for work (lower latency); off: they sleep (quieter cores)", DefaultValueFactory = _ => "on" };
    private readonly Option<GraphOptimization> _optimization = new("--graph-optimization") { Description = "how far ONNX Runtime rewrites the graph: disabled, basic, extended or all", DefaultValueFactory = _ => GraphOptimization.All };
    private readonly Option<bool> _tf32 = new("--tf32") { Description = "let CUDA use TF32 for float32 matrix products (faster; results move by ~1e-4, so parity runs keep it off)" };
    private readonly Option<string?>? _saveOptimized;

    /// <param name="defaultIntraOpThreads">The command's default for --intra-op-threads; null when the command sets threads its own way (bench's --threads).</param>
    /// <param name="saveOptimized">Whether the command offers --save-optimized (one model at a time).</param>
    public RuntimeOptionSet(ExecutionProviderPolicy defaultPolicy, int? defaultIntraOpThreads, bool saveOptimized)
    {
        _ep = CommonOptions.ExecutionProvider(defaultPolicy);
        if (defaultIntraOpThreads is { } threads)
            _intraOp = new("--intra-op-threads") { Description = $"ONNX Runtime threads inside one operator (0: one per core; default {threads})", DefaultValueFactory = _ => threads };
        if (saveOptimized)
            _saveOptimized = new("--save-optimized") { Description = "write the model as ONNX Runtime optimized it to this file, for inspection" };
    }

    /// <summary>The options, to add to a command.</summary>
    public IEnumerable<Option> All => new Option?[] { _ep, _device, _intraOp, _interOp, _mode, _spinning, _optimization, _tf32, _saveOptimized }.OfType<Option>();

    /// <summary>The settings the command line gave.</summary>
    /// <exception cref="UsageException">A value is not one the option takes.</exception>
    public OnnxRuntimeOptions Read(ParseResult result, int? intraOpThreads = null)
    {
        var options = new OnnxRuntimeOptions
        {
            Policy = result.GetValue(_ep),
            DeviceId = result.GetValue(_device),
            IntraOpThreads = intraOpThreads ?? (_intraOp is null ? 0 : result.GetValue(_intraOp)),
            InterOpThreads = result.GetValue(_interOp),
            ParallelExecution = result.GetValue(_mode) switch
            {
                "sequential" => false,
                "parallel" => true,
                var other => throw new UsageException($"--execution-mode '{other}' is not sequential or parallel"),
            },
            Spinning = result.GetValue(_spinning) switch
            {
                "on" => true,
                "off" => false,
                var other => throw new UsageException($"--spinning '{other}' is not on or off"),
            },
            Optimization = result.GetValue(_optimization),
            Tf32 = result.GetValue(_tf32),
            OptimizedModelPath = _saveOptimized is null ? null : result.GetValue(_saveOptimized),
        };
        try
        {
            options.Validate();
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        return options;
    }
}
