using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Parity;
using OnnxBridge.Runtime.Sessions;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Runtime.Tests;

/// <summary>Every element type we exchange passes through ONNX Runtime unchanged (an Identity model per type).</summary>
[TestClass]
[DoNotParallelize]
public sealed class DtypeTests
{
    private static byte[] IdentityModel(DataType type)
    {
        var tensorType = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = (int)type, Shape = new TensorShapeProto { Dim = { new TensorShapeProto.Types.Dimension { DimValue = 4 } } } } };
        var graph = new GraphProto { Name = "identity" };
        graph.Input.Add(new ValueInfoProto { Name = "x", Type = tensorType });
        graph.Output.Add(new ValueInfoProto { Name = "y", Type = tensorType });
        graph.Node.Add(new NodeProto { Name = "/Identity", OpType = "Identity", Input = { "x" }, Output = { "y" } });
        var model = new ModelProto { IrVersion = 8, Graph = graph };
        model.OpsetImport.Add(new OperatorSetIdProto { Domain = "", Version = 17 });
        return model.ToByteArray();
    }

    [TestMethod]
    [DataRow(DataType.Float)]
    [DataRow(DataType.Double)]
    [DataRow(DataType.Float16)]
    [DataRow(DataType.Bfloat16)]
    [DataRow(DataType.Int8)]
    [DataRow(DataType.Int16)]
    [DataRow(DataType.Int32)]
    [DataRow(DataType.Int64)]
    [DataRow(DataType.Uint8)]
    [DataRow(DataType.Uint16)]
    [DataRow(DataType.Uint32)]
    [DataRow(DataType.Uint64)]
    [DataRow(DataType.Bool)]
    public void Identity_EveryElementType_RoundTripsThroughOnnxRuntime(DataType type)
    {
        var size = ElementTypes.SizeOf(type);
        var bytes = Enumerable.Range(0, 4 * size).Select(i => type == DataType.Bool ? (byte)(i % 2) : (byte)(i * 7 + 1)).ToArray();
        var input = HostTensor.FromBytes(type, [4], bytes);
        using var session = OnnxModelSession.Open(IdentityModel(type));

        var output = session.Run([new NamedTensor("x", input)])[0].Tensor;

        Assert.AreEqual(type, output.ElementType);
        CollectionAssert.AreEqual(bytes, output.Bytes.ToArray());
        Assert.IsTrue(TensorComparer.Compare("y", input, output, Tolerance.Exact).Passed);
    }
}
