namespace OnnxBridge.Benchmarks;

/// <summary>What every benchmark shares.</summary>
internal static class Settings
{
    /// <summary>Threads for TorchSharp and ONNX Runtime alike: every core, as <c>onnxbridge bench</c> defaults to.</summary>
    public static int Threads => Environment.ProcessorCount;
}
