using Google.Protobuf;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Tests.Shared;
using DataType = OnnxBridge.Onnx.Proto.TensorProto.Types.DataType;

namespace OnnxBridge.Onnx.Tests;

[TestClass]
public sealed class HostTensorTests
{
    [TestMethod]
    public void ToProtoFromProto_Float_RoundTripsThroughRawData()
    {
        var tensor = HostTensor.Create<float>([1.5f, -2, 3, 4, 5, 6], 2, 3);

        var proto = tensor.ToProto("x");
        var back = HostTensor.FromProto(TensorProto.Parser.ParseFrom(proto.ToByteArray()));

        Assert.AreEqual("x", proto.Name);
        Assert.AreEqual((int)DataType.Float, proto.DataType);
        CollectionAssert.AreEqual(new long[] { 2, 3 }, back.Shape.ToArray());
        CollectionAssert.AreEqual(new float[] { 1.5f, -2, 3, 4, 5, 6 }, back.ToArray<float>());
    }

    [TestMethod]
    public void FromProto_TypedFields_AreReadForEachType()
    {
        var floats = new TensorProto { DataType = (int)DataType.Float, Dims = { 2 }, FloatData = { 1, 2 } };
        var int8 = new TensorProto { DataType = (int)DataType.Int8, Dims = { 3 }, Int32Data = { -1, 0, 7 } };
        var int64 = new TensorProto { DataType = (int)DataType.Int64, Dims = { 1 }, Int64Data = { long.MinValue } };
        var booleans = new TensorProto { DataType = (int)DataType.Bool, Dims = { 2 }, Int32Data = { 1, 0 } };
        var uint32 = new TensorProto { DataType = (int)DataType.Uint32, Dims = { 1 }, Uint64Data = { uint.MaxValue } };

        CollectionAssert.AreEqual(new float[] { 1, 2 }, HostTensor.FromProto(floats).ToArray<float>());
        CollectionAssert.AreEqual(new sbyte[] { -1, 0, 7 }, HostTensor.FromProto(int8).ToArray<sbyte>());
        CollectionAssert.AreEqual(new[] { long.MinValue }, HostTensor.FromProto(int64).ToArray<long>());
        CollectionAssert.AreEqual(new[] { true, false }, HostTensor.FromProto(booleans).ToArray<bool>());
        CollectionAssert.AreEqual(new[] { uint.MaxValue }, HostTensor.FromProto(uint32).ToArray<uint>());
    }

    [TestMethod]
    public void FromProto_ElementCountMismatch_NamesTheTensor()
    {
        var proto = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 2, 2 }, FloatData = { 1, 2, 3 } };

        var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromProto(proto));

        Assert.AreEqual("tensor 'w' float32[2, 2] has 3 elements in its data fields, expected 4", error.Message);
    }

    [TestMethod]
    public void FromBytes_WrongLength_StatesBothSizes()
    {
        var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromBytes(DataType.Float, [3], new byte[8]));

        Assert.AreEqual("float32[3] needs 12 bytes but 8 were given", error.Message);
    }

    [TestMethod]
    public void AsSpan_WrongType_Throws()
    {
        var tensor = HostTensor.Create<int>([1], 1);

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => tensor.ToArray<float>());

        Assert.AreEqual("tensor holds int32, not float32", error.Message);
    }

    [TestMethod]
    [DataRow(new long[] { 256, 1L << 54 }, DisplayName = "[256, 2^54]: 2^62 elements, 2^64 bytes")]
    [DataRow(new long[] { 1L << 62 }, DisplayName = "[2^62] elements")]
    [DataRow(new long[] { 1L << 40, 1L << 40 }, DisplayName = "[2^40, 2^40]: wraps 2^64 to 0")]
    [DataRow(new long[] { 3, -1 }, DisplayName = "a negative dimension")]
    public void FromProto_HugeSizeClaimWithNoData_IsRefusedNotReadAsEmpty(long[] dims)
    {
        // Each of these once passed as "0 bytes expected, 0 given" when the byte count wrapped around.
        var typed = new TensorProto { Name = "w", DataType = (int)DataType.Float };
        typed.Dims.AddRange(dims);
        var raw = typed.Clone();
        raw.RawData = Google.Protobuf.ByteString.Empty;

        foreach (var proto in new[] { typed, raw })
        {
            var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromProto(proto));
            StringAssert.Contains(error.Message, HostTensor.FormatShape(dims));
        }
    }

    [TestMethod]
    public void FromProto_ExternalDataThroughASymbolicLinkOutOfTheFolder_IsRefused()
    {
        using var outside = new TempFolder();
        using var model = new TempFolder();
        File.WriteAllBytes(outside.File("secret.bin"), new byte[4]);
        File.CreateSymbolicLink(model.File("weights.bin"), outside.File("secret.bin"));
        Directory.CreateSymbolicLink(model.File("sub"), outside.Path);

        foreach (var location in new[] { "weights.bin", "sub/secret.bin" })
        {
            var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromProto(External(location), model.Path), location);
            StringAssert.Contains(error.Message, $"external data location '{location}' is a symbolic link (or passes through one) to '{outside.File("secret.bin")}', outside the model folder");
        }
    }

    [TestMethod]
    public void FromProto_ExternalDataThroughASymbolicLinkInsideTheFolder_Reads()
    {
        using var model = new TempFolder();
        Directory.CreateDirectory(model.File("data"));
        File.WriteAllBytes(model.File("data/w.bin"), BitConverter.GetBytes(2.5f));
        File.CreateSymbolicLink(model.File("w.bin"), model.File("data/w.bin"));

        CollectionAssert.AreEqual(new[] { 2.5f }, HostTensor.FromProto(External("w.bin"), model.Path).ToArray<float>());
    }

    [TestMethod]
    [Timeout(60_000, CooperativeCancellation = true)]
    public void FromProto_ExternalDataThatIsAFifo_IsRefusedWithoutBlocking()
    {
        if (!OperatingSystem.IsLinux()) Assert.Inconclusive("FIFOs as file names are a Unix matter; this check is Linux's");
        using var model = new TempFolder();
        using (var mkfifo = System.Diagnostics.Process.Start("mkfifo", model.File("w.bin"))) mkfifo.WaitForExit();

        // Opening a FIFO for reading used to wait for a writer forever; the test would hang, not fail.
        var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromProto(External("w.bin"), model.Path));

        StringAssert.Contains(error.Message, "is a FIFO, not a regular file");
    }

    private static TensorProto External(string location)
    {
        var proto = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 1 }, DataLocation = TensorProto.Types.DataLocation.External };
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = location });
        return proto;
    }

    [TestMethod]
    public void FromProto_ExternalDataOutsideTheModelFolder_IsRefused()
    {
        var proto = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 1 }, DataLocation = TensorProto.Types.DataLocation.External };
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "../secret.bin" });

        var error = Assert.ThrowsExactly<OnnxFileException>(() => HostTensor.FromProto(proto, Path.GetTempPath()));

        StringAssert.StartsWith(error.Message, "tensor 'w': external data location '../secret.bin' leaves the model folder");
    }

    [TestMethod]
    public void FromProto_ExternalData_IsReadFromItsOffset()
    {
        using var temp = new OnnxBridge.Tests.Shared.TempFolder();
        File.WriteAllBytes(temp.File("weights.bin"), [0, 0, 0, 0, .. BitConverter.GetBytes(2.5f)]);
        var proto = new TensorProto { Name = "w", DataType = (int)DataType.Float, Dims = { 1 }, DataLocation = TensorProto.Types.DataLocation.External };
        proto.ExternalData.Add(new StringStringEntryProto { Key = "location", Value = "weights.bin" });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "offset", Value = "4" });
        proto.ExternalData.Add(new StringStringEntryProto { Key = "length", Value = "4" });

        Assert.AreEqual(2.5f, HostTensor.FromProto(proto, temp.Path).ToArray<float>()[0]);
    }
}
