namespace OnnxBridge.Onnx.TestCases;

/// <summary>One <c>test_data_set_N</c> folder: the inputs fed to a model and the outputs expected from it.</summary>
public sealed record TestDataSet(IReadOnlyList<NamedTensor> Inputs, IReadOnlyList<NamedTensor> Outputs);
