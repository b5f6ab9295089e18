using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;

namespace OnnxBridge.Runtime.Tests;

/// <summary>Small ONNX models built directly from the protos: this project has no TorchSharp to export with.</summary>
internal static class TestGraphs
{
    /// <summary>y = x·Wᵀ + b as one Gemm, x: float32[batch, 3], W: [2, 3].</summary>
    public static byte[] Affine(float[] weight, float[] bias)
    {
        var graph = new GraphProto { Name = "affine" };
        graph.Input.Add(Value("x", new TensorShapeProto.Types.Dimension { DimParam = "batch" }, new TensorShapeProto.Types.Dimension { DimValue = 3 }));
        graph.Output.Add(Value("y", new TensorShapeProto.Types.Dimension { DimParam = "batch" }, new TensorShapeProto.Types.Dimension { DimValue = 2 }));
        graph.Initializer.Add(HostTensor.Create<float>(weight, 2, 3).ToProto("W"));
        graph.Initializer.Add(HostTensor.Create<float>(bias, 2).ToProto("b"));
        var gemm = new NodeProto { Name = "/Gemm", OpType = "Gemm", Input = { "x", "W", "b" }, Output = { "y" } };
        gemm.Attribute.Add(new AttributeProto { Name = "transB", Type = AttributeProto.Types.AttributeType.Int, I = 1 });
        graph.Node.Add(gemm);
        var model = new ModelProto { IrVersion = 8, ProducerName = "tests", Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    private static ValueInfoProto Value(string name, params TensorShapeProto.Types.Dimension[] dims)
    {
        var shape = new TensorShapeProto();
        shape.Dim.AddRange(dims);
        return new ValueInfoProto { Name = name, Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)TensorProto.Types.DataType.Float, Shape = shape } } };
    }
}
