using Microsoft.ML.OnnxRuntime;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// The ways one model runs under ONNX Runtime that <c>bench</c>, <c>bench-ort</c> and the
/// BenchmarkDotNet suite compare, each as one call: raw (ONNX Runtime's own
/// <c>InferenceSession.Run</c> on an <c>OrtValue</c> over the caller's array: the baseline),
/// through <see cref="OnnxModelSession.Run"/> (copies in and out), bound (<see cref="BoundRun"/>,
/// the input copied into the bound buffer each call) and, on CUDA, bound with the outputs left on
/// the device. The raw session is opened once, with the same settings and provider as ours;
/// <see cref="Use"/> binds an input of the next shape. Owns what it opens; the caller owns the session.
/// </summary>
internal sealed class OrtTimings : IDisposable
{
    private readonly OnnxModelSession _session;
    private readonly InferenceSession _raw;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames, _outputNames;
    private HostTensor _input = null!;
    private NamedTensor[] _feed = [];
    private float[] _values = [];
    private long[] _shape = [];
    private BoundRun? _bound, _onDevice;

    /// <param name="model">The model's bytes, for the raw session.</param>
    public OrtTimings(byte[] model, OnnxModelSession session)
    {
        _session = session;
        using var sessionOptions = session.Options.CreateSessionOptions(session.Provider);
        _raw = new InferenceSession(model, sessionOptions);
        _inputNames = [session.InputNames[0]];
        _outputNames = [session.OutputNames[0]];
    }

    internal sealed record Result(double RawMs, double RunMs, double BoundMs, double? DeviceMs, HostTensor BoundOutput);

    /// <summary>Makes <paramref name="input"/> (float32, the model's first input) the one every path runs on.</summary>
    public void Use(HostTensor input)
    {
        _bound?.Dispose();
        _onDevice?.Dispose();
        _input = input;
        _values = input.ToArray<float>();
        _shape = [.. input.Shape];
        _feed = [new NamedTensor(_inputNames[0], input)];
        _bound = _session.Bind(_feed);
        _onDevice = _session.Provider == ExecutionProvider.Cuda ? _session.Bind(_feed, outputsOnDevice: true) : null;
    }

    /// <summary>ONNX Runtime's own API: an <c>OrtValue</c> over the caller's array, outputs allocated by the run.</summary>
    public float Raw()
    {
        using var value = OrtValue.CreateTensorValueFromMemory(_values, _shape);
        using var results = _raw.Run(_runOptions, _inputNames, [value], _outputNames);
        return results[0].GetTensorDataAsSpan<float>()[0];
    }

    /// <summary>Our wrapper, as a caller of <see cref="OnnxModelSession.Run"/> pays it.</summary>
    public IReadOnlyList<NamedTensor> Wrapped() => _session.Run(_feed);

    /// <summary>The bound run: the input copied into its bound buffer, the output read in place.</summary>
    public byte Bound()
    {
        _input.Bytes.Span.CopyTo(_bound!.Input(0));
        _bound.Run();
        return _bound.Output(0)[0];
    }

    /// <summary>The model alone on the device (CUDA only): bound input, outputs left in device memory.</summary>
    public void OnDevice() => (_onDevice ?? throw new InvalidOperationException("outputs stay on the device only on CUDA")).Run();

    /// <summary>Median milliseconds of every path on the input in use, and the bound run's output.</summary>
    public Result Measure(double seconds) => new(
        Timing.MedianMilliseconds(() => Raw(), seconds),
        Timing.MedianMilliseconds(() => Wrapped(), seconds),
        Timing.MedianMilliseconds(() => Bound(), seconds),
        _onDevice is null ? null : Timing.MedianMilliseconds(OnDevice, seconds),
        _bound!.OutputTensor(0));

    public void Dispose()
    {
        _bound?.Dispose();
        _onDevice?.Dispose();
        _runOptions.Dispose();
        _raw.Dispose();
    }
}
