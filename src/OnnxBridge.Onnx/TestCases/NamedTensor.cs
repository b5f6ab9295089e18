using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Onnx.TestCases;

/// <summary>A tensor with the graph input or output name it belongs to (may be empty in foreign test data).</summary>
public sealed record NamedTensor(string Name, HostTensor Tensor);
