using System.Runtime.InteropServices;
using System.Text.RegularExpressions;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Runtime.Sessions;

/// <summary>
/// An ONNX Runtime inference session opened under an <see cref="ExecutionProviderPolicy"/>. Owns
/// the native session; dispose it. Inputs and outputs are <see cref="HostTensor"/>s, so callers never
/// handle <c>OrtValue</c> lifetimes.
/// </summary>
public sealed partial class OnnxModelSession : IDisposable
{
    private readonly InferenceSession _session;
    private readonly RunOptions _sharedRunOptions = new();
    private readonly string[] _outputNames; // Run asks for every output: one array, not one per call

    private readonly string _model; // for error messages: the file, or "a model held in memory"

    private OnnxModelSession(InferenceSession session, ExecutionProvider provider, string description, string model)
    {
        _session = session;
        _model = model;
        Provider = provider;
        ProviderDescription = description;
        InputNames = [.. session.InputNames];
        OutputNames = _outputNames = [.. session.OutputNames];
        Inputs = [.. session.InputNames.Select(n => Signature(n, session.InputMetadata[n]))];
        Outputs = [.. session.OutputNames.Select(n => Signature(n, session.OutputMetadata[n]))];
    }

    /// <summary>The provider the session runs on.</summary>
    public ExecutionProvider Provider { get; }

    /// <summary>A line for reports, e.g. "CPUExecutionProvider" or "CUDAExecutionProvider (device 0, TF32 off)".</summary>
    public string ProviderDescription { get; }

    /// <summary>The model's input names, in graph order.</summary>
    public IReadOnlyList<string> InputNames { get; }

    /// <summary>The model's output names, in graph order.</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>The model's inputs with types and shapes, in graph order.</summary>
    public IReadOnlyList<TensorSignature> Inputs { get; }

    /// <summary>The model's outputs with types and shapes, in graph order.</summary>
    public IReadOnlyList<TensorSignature> Outputs { get; }

    /// <summary>The settings the session was opened with.</summary>
    public OnnxRuntimeOptions Options { get; private init; } = OnnxRuntimeOptions.Default;

    /// <summary>Opens a model file.</summary>
    /// <param name="options">Execution provider, threads and the rest; <see cref="OnnxRuntimeOptions.Default"/> when null.</param>
    /// <param name="log">Receives the loud note when <see cref="ExecutionProviderPolicy.Auto"/> falls back to the CPU.</param>
    /// <exception cref="ExecutionProviderException">CUDA was required and cannot be loaded.</exception>
    /// <exception cref="InferenceException">ONNX Runtime refused the model.</exception>
    /// <exception cref="ArgumentException">An option is out of range.</exception>
    public static OnnxModelSession Open(string modelPath, OnnxRuntimeOptions? options = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(modelPath);
        if (!File.Exists(modelPath)) throw new FileNotFoundException($"model file '{modelPath}' does not exist", modelPath);
        return Open(settings => new InferenceSession(modelPath, settings), $"'{modelPath}'", options ?? OnnxRuntimeOptions.Default, log);
    }

    /// <summary>Opens a model held in memory.</summary>
    /// <exception cref="InferenceException">ONNX Runtime refused the model.</exception>
    public static OnnxModelSession Open(byte[] model, OnnxRuntimeOptions? options = null, Action<string>? log = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Open(settings => new InferenceSession(model, settings), "a model held in memory", options ?? OnnxRuntimeOptions.Default, log);
    }

    /// <summary>
    /// Runs the model. Inputs are matched by name (or, for unnamed tensors, by position); outputs
    /// come back in graph order, named. With a <paramref name="timeout"/>, ONNX Runtime is told to
    /// stop (between operators, Loop iterations included) once it has passed.
    /// </summary>
    /// <exception cref="InferenceException">ONNX Runtime failed, or the run passed its timeout.</exception>
    public IReadOnlyList<NamedTensor> Run(IReadOnlyList<NamedTensor> inputs, TimeSpan? timeout = null)
    {
        var names = CheckInputs(inputs);
        var values = new List<OrtValue>(inputs.Count);
        var pins = new List<GCHandle>(inputs.Count);
        // A run without a timeout shares one RunOptions (ONNX Runtime only reads it); one with a
        // timeout gets its own, whose Terminate flag the deadline sets.
        var runOptions = timeout is null ? _sharedRunOptions : new RunOptions();
        try
        {
            foreach (var input in inputs) values.Add(Over(input.Tensor, pins));
            using var deadline = timeout is { } limit ? new CancellationTokenSource(limit) : null;
            // Disposed before runOptions: disposing a registration waits for a callback already running.
            using var stop = deadline?.Token.Register(() => runOptions.Terminate = true);
            try
            {
                using var outputs = _session.Run(runOptions, names, values, _outputNames);
                return [.. outputs.Select((v, i) => new NamedTensor(OutputNames[i], FromOrtValue(OutputNames[i], v)))];
            }
            catch (OnnxRuntimeException e)
            {
                throw deadline is { IsCancellationRequested: true }
                    ? new InferenceException($"running {_model} did not finish within {timeout!.Value.TotalSeconds:0.###} s and was stopped", e)
                    : new InferenceException($"ONNX Runtime failed running {_model}: {e.Message.Trim()}", e);
            }
        }
        finally
        {
            foreach (var value in values) value.Dispose();
            foreach (var pin in pins) pin.Free();
            if (!ReferenceEquals(runOptions, _sharedRunOptions)) runOptions.Dispose();
        }
    }

    /// <summary>
    /// Binds inputs of <paramref name="example"/>'s shapes (holding its data) and the outputs they
    /// produce to buffers that every <see cref="BoundRun.Run"/> reuses: ONNX Runtime's I/O binding,
    /// for running the same shapes many times without allocating or copying per call.
    /// </summary>
    /// <param name="outputsOnDevice">On CUDA, leave the outputs in device memory (not readable; for speed runs).</param>
    /// <exception cref="ArgumentException">The inputs do not match the model's, or outputs on the device were asked for off CUDA.</exception>
    /// <exception cref="InferenceException">ONNX Runtime failed the first run, which finds the output shapes.</exception>
    public BoundRun Bind(IReadOnlyList<NamedTensor> example, bool outputsOnDevice = false)
    {
        CheckInputs(example);
        return new BoundRun(_session, Provider, Options.DeviceId, InputNames, example, _outputNames, outputsOnDevice, _model);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _session.Dispose();
        _sharedRunOptions.Dispose();
    }

    private string[] CheckInputs(IReadOnlyList<NamedTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (inputs.Count != InputNames.Count)
            throw new ArgumentException($"the model takes {InputNames.Count} inputs ({string.Join(", ", InputNames)}), {inputs.Count} were given", nameof(inputs));
        var names = inputs.Select((t, i) => string.IsNullOrEmpty(t.Name) ? InputNames[i] : t.Name).ToArray();
        foreach (var name in names)
        {
            if (!InputNames.Contains(name))
                throw new ArgumentException($"the model has no input '{name}'; its inputs are {string.Join(", ", InputNames)}", nameof(inputs));
        }
        return names;
    }

    private static OnnxModelSession Open(Func<SessionOptions, InferenceSession> create, string model, OnnxRuntimeOptions options, Action<string>? log)
    {
        if (options.Policy == ExecutionProviderPolicy.Cpu) return OpenCpu(create, model, options);

        try
        {
            using var settings = options.CreateSessionOptions(ExecutionProvider.Cuda);
            return new OnnxModelSession(create(settings), ExecutionProvider.Cuda,
                $"CUDAExecutionProvider (device {options.DeviceId}, TF32 {(options.Tf32 ? "on" : "off")})", model) { Options = options };
        }
        catch (OnnxRuntimeException e)
        {
            var reason = DescribeCudaFailure(e.Message);
            if (options.Policy == ExecutionProviderPolicy.Cuda)
                throw new ExecutionProviderException($"the CUDA execution provider cannot be used: {reason}", e);
            log?.Invoke($"WARNING: CUDA execution provider unavailable ({reason}); running on CPUExecutionProvider instead.");
            return OpenCpu(create, model, options);
        }
    }

    private static OnnxModelSession OpenCpu(Func<SessionOptions, InferenceSession> create, string model, OnnxRuntimeOptions options)
    {
        using var settings = options.CreateSessionOptions();
        try
        {
            return new OnnxModelSession(create(settings), ExecutionProvider.Cpu, "CPUExecutionProvider", model) { Options = options };
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime cannot load {model}: {e.Message.Trim()}", e);
        }
    }

    /// <summary>Turns ONNX Runtime's loader error into a short reason that names the missing libraries.</summary>
    internal static string DescribeCudaFailure(string message)
    {
        var missing = MissingLibraryPattern().Matches(message).Select(m => m.Groups[1].Value).Distinct().ToList();
        return missing.Count > 0
            ? $"missing {string.Join(", ", missing)} (install CUDA 13 and cuDNN 9, or put their lib folders on LD_LIBRARY_PATH); ONNX Runtime said: {message.Trim()}"
            : message.Trim();
    }

    private static TensorSignature Signature(string name, NodeMetadata metadata) =>
        metadata.IsTensor
            ? new TensorSignature(name, (DataType)(int)metadata.ElementDataType, [.. metadata.Dimensions.Select(d => (long)d)], [.. metadata.SymbolicDimensions])
            : new TensorSignature(name, DataType.Undefined, [], []);

    /// <summary>
    /// An input as ONNX Runtime reads it: over the tensor's own array, pinned until the run ends
    /// (<paramref name="pins"/>), so a call allocates and copies nothing for its inputs — a copy into
    /// a fresh OrtValue cost 10 % of a 36 µs run. A tensor with no array behind it (or no elements)
    /// is copied into an allocated value.
    /// </summary>
    private static OrtValue Over(HostTensor tensor, List<GCHandle> pins)
    {
        var type = (TensorElementType)(int)tensor.ElementType;
        if (!MemoryMarshal.TryGetArray(tensor.Bytes, out var bytes) || bytes.Count == 0)
        {
            var value = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, [.. tensor.Shape]);
            tensor.Bytes.Span.CopyTo(value.GetTensorMutableRawData());
            return value;
        }
        var pin = GCHandle.Alloc(bytes.Array, GCHandleType.Pinned);
        pins.Add(pin);
        return OrtValue.CreateTensorValueWithData(OrtMemoryInfo.DefaultInstance, type, [.. tensor.Shape], pin.AddrOfPinnedObject() + bytes.Offset, bytes.Count);
    }

    private static HostTensor FromOrtValue(string name, OrtValue value)
    {
        if (!value.IsTensor) throw new InferenceException($"output '{name}' is a {value.OnnxType}; only tensors are supported");
        var info = value.GetTensorTypeAndShape();
        var type = (DataType)(int)info.ElementDataType;
        return HostTensor.FromBytes(type, info.Shape, value.GetTensorMutableRawData());
    }

    [GeneratedRegex(@"(lib[A-Za-z0-9_+\-]+\.so(?:\.[0-9]+)*): cannot open shared object file")]
    private static partial Regex MissingLibraryPattern();
}
