using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;

namespace OnnxBridge.Runtime.Sessions;

/// <summary>
/// A model's inputs and outputs bound once to buffers that every run reuses (ONNX Runtime's I/O
/// binding, <c>OrtIoBinding</c>), for callers that run the same shapes again and again (benchmarks,
/// a serving loop): a run allocates nothing and copies nothing beyond what the caller writes into
/// <see cref="Input"/> and reads from <see cref="Output"/>. The buffers are host memory that ONNX
/// Runtime owns — page-locked (CUDA's pinned memory) when the session runs on CUDA, so the copies to
/// and from the device are direct; with <c>outputsOnDevice</c> the outputs stay in device memory and
/// are not readable here (a speed run that measures the model, not the copies).
/// Create it with <see cref="OnnxModelSession.Bind"/>; dispose it before its session. Not
/// thread-safe: one binding per thread.
/// </summary>
public sealed class BoundRun : IDisposable
{
    private readonly InferenceSession _session;
    private readonly OrtIoBinding _binding;
    private readonly RunOptions _runOptions = new();
    private readonly OrtAllocator? _pinned;
    private readonly List<OrtValue> _inputs = [];
    private readonly List<OrtValue> _outputs = [];
    private readonly string _model;

    internal BoundRun(InferenceSession session, ExecutionProvider provider, int deviceId, IReadOnlyList<string> inputNames, IReadOnlyList<NamedTensor> example, IReadOnlyList<string> outputNames, bool outputsOnDevice, string model)
    {
        _session = session;
        _model = model;
        _binding = session.CreateIoBinding();
        try
        {
            if (provider == ExecutionProvider.Cuda)
            {
                using var pinnedInfo = new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA_PINNED, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.CpuOutput);
                _pinned = new OrtAllocator(session, pinnedInfo);
            }
            else if (outputsOnDevice)
            {
                throw new ArgumentException("outputs can stay on the device only when the session runs on CUDA", nameof(outputsOnDevice));
            }
            var allocator = _pinned ?? OrtAllocator.DefaultInstance;
            for (int i = 0; i < example.Count; i++)
            {
                var tensor = example[i].Tensor;
                var value = OrtValue.CreateAllocatedTensorValue(allocator, (TensorElementType)(int)tensor.ElementType, [.. tensor.Shape]);
                _inputs.Add(value);
                tensor.Bytes.Span.CopyTo(value.GetTensorMutableRawData());
                _binding.BindInput(string.IsNullOrEmpty(example[i].Name) ? inputNames[i] : example[i].Name, value);
            }

            // The output shapes follow from the input shapes: one run with outputs left to ONNX Runtime
            // finds them, then the outputs are bound to buffers of those shapes for good.
            using var device = provider == ExecutionProvider.Cuda
                ? new OrtMemoryInfo(OrtMemoryInfo.allocatorCUDA, OrtAllocatorType.DeviceAllocator, deviceId, OrtMemType.Default)
                : null;
            foreach (var name in outputNames) _binding.BindOutputToDevice(name, device ?? OrtMemoryInfo.DefaultInstance);
            var shapes = new List<(TensorElementType Type, long[] Shape)>();
            RunOnce(() =>
            {
                using var first = _binding.GetOutputValues();
                foreach (var value in first)
                {
                    var info = value.GetTensorTypeAndShape();
                    shapes.Add((info.ElementDataType, info.Shape));
                }
            });
            OutputsOnDevice = outputsOnDevice;
            if (!outputsOnDevice)
            {
                _binding.ClearBoundOutputs();
                for (int i = 0; i < outputNames.Count; i++)
                {
                    var value = OrtValue.CreateAllocatedTensorValue(allocator, shapes[i].Type, shapes[i].Shape);
                    _outputs.Add(value);
                    _binding.BindOutput(outputNames[i], value);
                }
            }
            InputShapes = [.. example.Select(e => e.Tensor.Shape)];
            OutputShapes = [.. shapes.Select(s => (IReadOnlyList<long>)s.Shape)];
            OutputTypes = [.. shapes.Select(s => (Onnx.Proto.TensorProto.Types.DataType)(int)s.Type)];
            OutputNames = outputNames;
        }
        catch
        {
            Dispose();
            throw;
        }
    }

    /// <summary>The bound inputs' shapes, in the order they were given.</summary>
    public IReadOnlyList<IReadOnlyList<long>> InputShapes { get; } = [];

    /// <summary>The outputs' names, in graph order.</summary>
    public IReadOnlyList<string> OutputNames { get; } = [];

    /// <summary>The outputs' shapes, in graph order.</summary>
    public IReadOnlyList<IReadOnlyList<long>> OutputShapes { get; } = [];

    /// <summary>The outputs' element types, in graph order.</summary>
    public IReadOnlyList<Onnx.Proto.TensorProto.Types.DataType> OutputTypes { get; } = [];

    /// <summary>Whether the outputs stay in device memory (then <see cref="Output"/> is refused).</summary>
    public bool OutputsOnDevice { get; }

    /// <summary>Input <paramref name="index"/>'s bound buffer (row-major, little-endian): write the next run's data here.</summary>
    public Span<byte> Input(int index) => _inputs[index].GetTensorMutableRawData();

    /// <summary>Output <paramref name="index"/>'s bound buffer, valid until the next run.</summary>
    /// <exception cref="InvalidOperationException">The outputs stay on the device.</exception>
    public ReadOnlySpan<byte> Output(int index) => OutputsOnDevice
        ? throw new InvalidOperationException("the outputs of this binding stay in device memory; bind without outputsOnDevice to read them")
        : _outputs[index].GetTensorMutableRawData();

    /// <summary>Output <paramref name="index"/> copied out as a tensor of its own.</summary>
    public HostTensor OutputTensor(int index) => HostTensor.FromBytes(OutputTypes[index], [.. OutputShapes[index]], Output(index));

    /// <summary>Runs the model on the bound inputs into the bound outputs.</summary>
    /// <exception cref="InferenceException">ONNX Runtime failed.</exception>
    public void Run() => RunOnce(static () => { });

    private void RunOnce(Action afterRun)
    {
        try
        {
            _session.RunWithBinding(_runOptions, _binding);
            afterRun();
        }
        catch (OnnxRuntimeException e)
        {
            throw new InferenceException($"ONNX Runtime failed running {_model} with bound inputs and outputs: {e.Message.Trim()}", e);
        }
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        _binding.Dispose();
        foreach (var value in _inputs.Concat(_outputs)) value.Dispose();
        _pinned?.Dispose();
        _runOptions.Dispose();
    }
}
