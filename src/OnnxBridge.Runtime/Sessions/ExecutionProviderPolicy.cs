namespace OnnxBridge.Runtime.Sessions;

/// <summary>Which execution provider a session should run on.</summary>
public enum ExecutionProviderPolicy
{
    /// <summary>ONNX Runtime's CPU provider.</summary>
    Cpu,

    /// <summary>The CUDA provider, or an error naming what is missing.</summary>
    Cuda,

    /// <summary>CUDA when it can be loaded, else the CPU — and the fallback is reported, never silent.</summary>
    Auto,
}
