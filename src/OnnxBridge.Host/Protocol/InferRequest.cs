using OnnxBridge.Onnx.TestCases;

namespace OnnxBridge.Host.Protocol;

/// <summary>An output the client asked for, and whether it wants it as binary data.</summary>
internal sealed record RequestedOutput(string Name, bool Binary);

/// <summary>A parsed, validated inference request: inputs typed and shaped for the model, in the model's input order.</summary>
internal sealed record InferRequest(string? Id, IReadOnlyList<NamedTensor> Inputs, IReadOnlyList<RequestedOutput> Outputs, long BatchSize);
