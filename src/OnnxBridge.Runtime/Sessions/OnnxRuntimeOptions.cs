using System.Globalization;
using Microsoft.ML.OnnxRuntime;

namespace OnnxBridge.Runtime.Sessions;

/// <summary>
/// Everything that decides how ONNX Runtime runs a model, in one record that every user shares:
/// the library (<see cref="OnnxModelSession.Open(string, OnnxRuntimeOptions?, Action{string}?)"/>),
/// <c>verify</c>, <c>serve</c> and <c>bench</c>. The defaults are ONNX Runtime's own except where a
/// measurement said otherwise (docs/benchmarks.md, "ONNX Runtime defaults, chosen from measurements"): sequential execution
/// (the parallel mode was 1.7–4.5× slower on our networks), spinning threads (spinning off was
/// 1.2–1.5× slower at small batches), all graph optimizations, memory patterns and the CPU arena
/// on, TF32 off.
/// </summary>
public sealed record OnnxRuntimeOptions
{
    /// <summary>The defaults: the CPU provider, ONNX Runtime's thread count, everything else as described above.</summary>
    public static OnnxRuntimeOptions Default { get; } = new();

    /// <summary>Which execution provider to run on (<c>--ep</c>).</summary>
    public ExecutionProviderPolicy Policy { get; init; } = ExecutionProviderPolicy.Cpu;

    /// <summary>The CUDA device, when CUDA is used.</summary>
    public int DeviceId { get; init; }

    /// <summary>Threads inside one operator (<c>--intra-op-threads</c>); 0 lets ONNX Runtime choose (one per core).</summary>
    public int IntraOpThreads { get; init; }

    /// <summary>Threads across independent operators, used only by <see cref="ParallelExecution"/> (<c>--inter-op-threads</c>); 0: ONNX Runtime's choice.</summary>
    public int InterOpThreads { get; init; }

    /// <summary>Runs independent branches of the graph concurrently (ONNX Runtime's ORT_PARALLEL). Off: one operator at a time.</summary>
    public bool ParallelExecution { get; init; }

    /// <summary>Whether idle intra-op threads spin waiting for work (lower latency, busier cores) (<c>--spinning</c>).</summary>
    public bool Spinning { get; init; } = true;

    /// <summary>How much ONNX Runtime rewrites the graph before running it (<c>--graph-optimization</c>).</summary>
    public GraphOptimization Optimization { get; init; } = GraphOptimization.All;

    /// <summary>Plans memory from the first run's shapes and reuses the plan (ONNX Runtime's memory pattern).</summary>
    public bool MemoryPattern { get; init; } = true;

    /// <summary>Serves CPU allocations from ONNX Runtime's arena instead of the system allocator.</summary>
    public bool CpuArena { get; init; } = true;

    /// <summary>
    /// Lets CUDA use TF32 for fp32 matrix products: faster, but results move by ~1e-4 (relative
    /// 5e-4), so it stays off for parity runs and is an option for speed runs (<c>--tf32</c>).
    /// </summary>
    public bool Tf32 { get; init; }

    /// <summary>Where ONNX Runtime writes the model after its graph optimizations, for inspection (<c>--save-optimized</c>); null: not written.</summary>
    public string? OptimizedModelPath { get; init; }

    /// <summary>The options with another execution-provider policy.</summary>
    public static OnnxRuntimeOptions On(ExecutionProviderPolicy policy, int deviceId = 0) => new() { Policy = policy, DeviceId = deviceId };

    /// <summary>One line for reports, e.g. "threads 2 (intra) / 0 (inter), sequential, spinning on, optimization all, memory pattern on, arena on".</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture,
        $"threads {IntraOpThreads} (intra) / {InterOpThreads} (inter), {(ParallelExecution ? "parallel" : "sequential")}, spinning {OnOff(Spinning)}, optimization {Optimization.ToString().ToLowerInvariant()}, memory pattern {OnOff(MemoryPattern)}, arena {OnOff(CpuArena)}{(Tf32 ? ", TF32 on" : "")}");

    /// <summary>Checks the values; the message names the option and the value.</summary>
    /// <exception cref="ArgumentException">A value is out of range.</exception>
    public void Validate()
    {
        if (IntraOpThreads is < 0 or > 1024) throw new ArgumentException($"intra-op threads must be in [0, 1024], got {IntraOpThreads}");
        if (InterOpThreads is < 0 or > 1024) throw new ArgumentException($"inter-op threads must be in [0, 1024], got {InterOpThreads}");
        if (DeviceId < 0) throw new ArgumentException($"the CUDA device id cannot be negative, got {DeviceId}");
        if (!Enum.IsDefined(Optimization)) throw new ArgumentException($"graph optimization level {(int)Optimization} is not one of {string.Join(", ", Enum.GetNames<GraphOptimization>())}");
        if (OptimizedModelPath is { Length: 0 }) throw new ArgumentException("the path for the optimized model is empty");
    }

    /// <summary>
    /// ONNX Runtime's own session options for these settings on <paramref name="provider"/>, for
    /// code that opens an <see cref="InferenceSession"/> itself (a benchmark's baseline) and for
    /// <see cref="OnnxModelSession"/>, which decides the provider under <see cref="Policy"/>. With
    /// CUDA, its provider is appended (device, TF32). The caller disposes them.
    /// </summary>
    /// <exception cref="OnnxRuntimeException">The CUDA provider cannot be loaded.</exception>
    public SessionOptions CreateSessionOptions(ExecutionProvider provider = ExecutionProvider.Cpu)
    {
        Validate();
        var options = new SessionOptions
        {
            IntraOpNumThreads = IntraOpThreads,
            InterOpNumThreads = InterOpThreads,
            ExecutionMode = ParallelExecution ? ExecutionMode.ORT_PARALLEL : ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = Optimization switch
            {
                GraphOptimization.Disabled => GraphOptimizationLevel.ORT_DISABLE_ALL,
                GraphOptimization.Basic => GraphOptimizationLevel.ORT_ENABLE_BASIC,
                GraphOptimization.Extended => GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
                _ => GraphOptimizationLevel.ORT_ENABLE_ALL,
            },
            EnableMemoryPattern = MemoryPattern,
            EnableCpuMemArena = CpuArena,
        };
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", Spinning ? "1" : "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", Spinning ? "1" : "0");
        if (OptimizedModelPath is not null) options.OptimizedModelFilePath = OptimizedModelPath;
        if (provider == ExecutionProvider.Cuda)
        {
            try
            {
                AppendCuda(options);
            }
            catch
            {
                options.Dispose();
                throw;
            }
        }
        return options;
    }

    private void AppendCuda(SessionOptions options)
    {
        // The environment must exist before CUDA provider options are built, or UpdateOptions
        // throws "Attempt to use DefaultLogger but none has been registered".
        _ = OrtEnv.Instance();
        using var cuda = new OrtCUDAProviderOptions();
        cuda.UpdateOptions(new Dictionary<string, string>
        {
            ["device_id"] = DeviceId.ToString(CultureInfo.InvariantCulture),
            // Parity needs IEEE fp32 matmuls: TF32 alone moves results by ~1e-4.
            ["use_tf32"] = Tf32 ? "1" : "0",
        });
        options.AppendExecutionProvider_CUDA(cuda);
    }

    private static string OnOff(bool value) => value ? "on" : "off";
}

/// <summary>ONNX Runtime's graph optimization levels.</summary>
public enum GraphOptimization
{
    /// <summary>The graph runs as written.</summary>
    Disabled,

    /// <summary>Semantics-preserving rewrites: constant folding, redundant-node removal.</summary>
    Basic,

    /// <summary>Basic plus node fusions (e.g. Gemm + activation).</summary>
    Extended,

    /// <summary>Extended plus layout optimizations (ONNX Runtime's default).</summary>
    All,
}
