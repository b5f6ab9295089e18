using OnnxBridge.Onnx.IO;
using OnnxBridge.Onnx.Proto;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Onnx.Tests;

[TestClass]
public sealed class TestCaseAndFileTests
{
    [TestMethod]
    public void WriteRead_TestCase_UsesTheOnnxLayoutAndRoundTrips()
    {
        using var temp = new TempFolder();
        var model = new ModelProto { IrVersion = 8, Graph = new GraphProto { Name = "g" } };
        model.Graph.Input.Add(new ValueInfoProto { Name = "x", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        model.Graph.Output.Add(new ValueInfoProto { Name = "y", Type = new TypeProto { TensorType = new TypeProto.Types.Tensor { ElemType = 1 } } });
        var sets = new[]
        {
            new TestDataSet([new NamedTensor("x", HostTensor.Create<float>([1, 2], 1, 2))], [new NamedTensor("y", HostTensor.Create<float>([3], 1, 1))]),
            new TestDataSet([new NamedTensor("x", HostTensor.Create<float>([4, 5, 6, 7], 2, 2))], [new NamedTensor("y", HostTensor.Create<float>([8, 9], 2, 1))]),
        };

        OnnxTestCase.Write(temp.Path, model, sets);
        var read = OnnxTestCase.Read(temp.Path);

        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "model.onnx")));
        Assert.IsTrue(File.Exists(Path.Combine(temp.Path, "test_data_set_1", "output_0.pb")));
        Assert.AreEqual(2, read.DataSets.Count);
        Assert.AreEqual("x", read.DataSets[1].Inputs[0].Name);
        CollectionAssert.AreEqual(new float[] { 8, 9 }, read.DataSets[1].Outputs[0].Tensor.ToArray<float>());
    }

    [TestMethod]
    public void Write_OverAnOlderCase_RemovesStaleDataSets()
    {
        using var temp = new TempFolder();
        var model = new ModelProto { Graph = new GraphProto() };
        var set = new TestDataSet([], [new NamedTensor("y", HostTensor.Create<float>([1], 1))]);
        OnnxTestCase.Write(temp.Path, model, [set, set, set]);

        OnnxTestCase.Write(temp.Path, model, [set]);

        Assert.AreEqual(1, Directory.GetDirectories(temp.Path, "test_data_set_*").Length);
    }

    [TestMethod]
    public void ReadModel_MoreThanAMillionGraphEntries_IsRefusedNamingTheBound()
    {
        using var temp = new TempFolder();
        // Nodes and initializers count together, subgraphs included: 1,000,001 empty initializers
        // make a 2 MB file that would otherwise cost ONNX Runtime (and inspect) minutes.
        var graph = new GraphProto { Name = "wide" };
        for (int i = 0; i <= OnnxFiles.MaxGraphEntries; i++) graph.Initializer.Add(new TensorProto());
        File.WriteAllBytes(temp.File("wide.onnx"), Google.Protobuf.MessageExtensions.ToByteArray(new ModelProto { Graph = graph }));

        var error = Assert.ThrowsExactly<OnnxFileException>(() => OnnxFiles.ReadModel(temp.File("wide.onnx")));

        Assert.AreEqual($"'{temp.File("wide.onnx")}' holds more than 1,000,000 nodes and initializers (subgraphs included); OnnxBridge reads models up to that size", error.Message);
    }

    [TestMethod]
    public void Read_FolderWithoutModel_SaysSo()
    {
        using var temp = new TempFolder();

        var error = Assert.ThrowsExactly<OnnxFileException>(() => OnnxTestCase.Read(temp.Path));

        Assert.AreEqual($"'{temp.Path}' is not an ONNX test case: model.onnx is missing", error.Message);
    }

    [TestMethod]
    public void AtomicWrite_FailingWriter_KeepsTheOldFileAndLeavesNoTemporary()
    {
        using var temp = new TempFolder();
        var path = temp.File("state.bin");
        File.WriteAllBytes(path, [1, 2, 3]);

        Assert.ThrowsExactly<IOException>(() => AtomicFile.Write(path, s =>
        {
            s.Write([9, 9]);
            throw new IOException("disk full");
        }));

        CollectionAssert.AreEqual(new byte[] { 1, 2, 3 }, File.ReadAllBytes(path));
        CollectionAssert.AreEqual(new[] { "state.bin" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).ToArray());
    }

    [TestMethod]
    public void AtomicWrite_RemovesTemporariesOfDeadWriters_KeepsLiveOnes()
    {
        using var temp = new TempFolder();
        using var exited = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("true"))!;
        exited.WaitForExit();
        var orphan = temp.File($".state.bin.{exited.Id}.{Guid.NewGuid():N}.tmp");
        var live = temp.File($".state.bin.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        var other = temp.File($".other.bin.{exited.Id}.{Guid.NewGuid():N}.tmp");
        foreach (var f in new[] { orphan, live, other }) File.WriteAllBytes(f, [1]);

        AtomicFile.WriteAllBytes(temp.File("state.bin"), [2]);

        Assert.IsFalse(File.Exists(orphan), "a dead writer's temporary file remains");
        Assert.IsTrue(File.Exists(live), "this process's own temporary file must be left alone");
        Assert.IsTrue(File.Exists(other), "temporary files of other targets are not ours to remove");
    }

    [TestMethod]
    public void AtomicWrite_ShorterContent_ReplacesTheWholeFile()
    {
        using var temp = new TempFolder();
        var path = temp.File("a.bin");
        File.WriteAllBytes(path, new byte[100]);

        AtomicFile.WriteAllBytes(path, [7]);

        CollectionAssert.AreEqual(new byte[] { 7 }, File.ReadAllBytes(path));
    }
}
