using Microsoft.ML.OnnxRuntime;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Cli.Commands;

/// <summary>
/// One model and input timed under ONNX Runtime the ways <c>bench</c> and <c>bench-ort</c> report:
/// raw (ONNX Runtime's own <c>InferenceSession.Run</c> on an <c>OrtValue</c> over the caller's
/// array: the baseline), through <see cref="OnnxModelSession.Run"/> (copies in and out), bound
/// (<see cref="BoundRun"/>, the new input copied into the bound buffer each call) and, on CUDA,
/// bound with the outputs left on the device. Medians in milliseconds.
/// </summary>
internal static class OrtTimings
{
    internal sealed record Result(double RawMs, double RunMs, double BoundMs, double? DeviceMs, HostTensor BoundOutput);

    /// <param name="model">The model's bytes, for the raw session (opened with the same settings and provider).</param>
    public static Result Measure(byte[] model, OnnxModelSession session, HostTensor input, double seconds)
    {
        var name = session.InputNames[0];
        using var sessionOptions = session.Options.CreateSessionOptions(session.Provider);
        using var raw = new InferenceSession(model, sessionOptions);
        using var runOptions = new RunOptions();
        var values = input.ToArray<float>();
        var shape = input.Shape.ToArray();
        string[] inputNames = [name];
        string[] outputNames = [session.OutputNames[0]];
        var feed = new[] { new NamedTensor(name, input) };
        using var bound = session.Bind(feed);
        using var onDevice = session.Provider == ExecutionProvider.Cuda ? session.Bind(feed, outputsOnDevice: true) : null;

        var rawMs = Timing.MedianMilliseconds(() =>
        {
            using var value = OrtValue.CreateTensorValueFromMemory(values, shape);
            using var results = raw.Run(runOptions, inputNames, [value], outputNames);
            _ = results[0].GetTensorDataAsSpan<float>()[0];
        }, seconds);
        var runMs = Timing.MedianMilliseconds(() => session.Run(feed), seconds);
        var boundMs = Timing.MedianMilliseconds(() =>
        {
            input.Bytes.Span.CopyTo(bound.Input(0));
            bound.Run();
            _ = bound.Output(0)[0];
        }, seconds);
        double? deviceMs = onDevice is null ? null : Timing.MedianMilliseconds(onDevice.Run, seconds);
        return new Result(rawMs, runMs, boundMs, deviceMs, bound.OutputTensor(0));
    }
}
