namespace OnnxBridge.Runtime.Sessions;

/// <summary>The execution provider a session actually runs on.</summary>
public enum ExecutionProvider
{
    /// <summary>CPUExecutionProvider.</summary>
    Cpu,

    /// <summary>CUDAExecutionProvider.</summary>
    Cuda,
}
