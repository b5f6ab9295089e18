namespace OnnxBridge.Core.Builder;

/// <summary>Entry point of the fluent builder: <c>Net.Sequential().Linear(256).ReLU().Linear(10).Build()</c>.</summary>
public static class Net
{
    /// <summary>Starts a Sequential network.</summary>
    public static SequentialBuilder Sequential() => new();
}
