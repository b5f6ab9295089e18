using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// The load paths that read straight into new parameter memory (issue #14 item 7), safetensors,
/// PyTorch's .pt and TorchSharp's .dat: no host copy, the parameters stay the same objects, and loading never ties or
/// unties tensors.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class StateDictLoadTests
{
    [TestMethod]
    [DataRow(".safetensors")]
    [DataRow(".pt")]
    [DataRow(".dat")]
    public void Load_ReadsIntoParameterMemory_WithoutAHostCopy_KeepingTheParameterObjects(string extension)
    {
        using var temp = new TempFolder();
        random.manual_seed(5);
        // 9,009,000 float32 values (36 MB): above the size from which safetensors slices are read on several threads.
        var net = new Linear(1000, 9000);
        var path = temp.File("big" + extension);
        StateDicts.Save(net, path);
        var fresh = new Linear(1000, 9000);
        StateDicts.Load(fresh, path); // warm-up: the JIT and the thread pool

        using (no_grad()) foreach (var p in fresh.parameters()) p.zero_();
        var weight = fresh.Weight!;
        var optimizer = optim.SGD(fresh.parameters(), 0.5);
        var before = GC.GetAllocatedBytesForCurrentThread();
        StateDicts.Load(fresh, path);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsTrue(allocated < 1 << 20, $"loading 36 MB of weights allocated {allocated} managed bytes: a host copy crept back in");
        Assert.IsTrue(fresh.Weight!.equal(net.Weight!).all().item<bool>() && fresh.Bias!.equal(net.Bias!).all().item<bool>(), "every slice lands at its offset, bit for bit");
        Assert.AreSame(weight, fresh.Weight, "the load swaps the parameter's memory, not the parameter");
        Assert.IsTrue(fresh.Weight.requires_grad);

        // An optimizer made before the load still trains the loaded parameters.
        using var input = ones(2, 1000);
        fresh.forward(input).sum().backward();
        optimizer.step();
        Assert.IsFalse(fresh.Bias.equal(net.Bias!).all().item<bool>(), "the optimizer's step reached the loaded bias");
    }

    [TestMethod]
    [DataRow(".safetensors")]
    [DataRow(".pt")]
    public void Load_FileWithTiedKeys_IntoUntiedLayers_LeavesThemSeparate(string extension)
    {
        using var temp = new TempFolder();
        var shared = HostTensor.Create<float>([1, 2, 3, 4], 2, 2);
        var bias = HostTensor.Create<float>([0, 0], 2);
        var path = temp.File("tied" + extension);
        // One tensor under two keys: the file stores it once (safetensors: an alias in its metadata; .pt: one storage record).
        StateDicts.Write(path, [("0.weight", shared), ("0.bias", bias), ("1.weight", shared), ("1.bias", bias)]);

        var net = new Sequential();
        net.Append(new Linear(2, 2));
        net.Append(new Linear(2, 2));
        StateDicts.Load(net, path);
        var first = (Linear)net[0];
        var second = (Linear)net[1];
        Assert.IsTrue(first.Weight!.equal(second.Weight!).all().item<bool>());

        using (no_grad()) first.Weight.add_(10);
        Assert.AreEqual(1f, second.Weight![0, 0].item<float>(), "the second layer's weight is its own tensor, as before the load");
    }

    [TestMethod]
    public void FileReader_FileEndsEarly_NamesTheFileAndTheTensor()
    {
        using var temp = new TempFolder();
        var path = temp.File("short.bin");
        File.WriteAllBytes(path, new byte[100]);
        using var destination = empty(50, dtype: ScalarType.Float32); // 200 bytes
        using var file = File.OpenHandle(path);

        var error = Assert.ThrowsExactly<EndOfStreamException>(() => TensorFileReader.ReadAll(file, path, [new(destination, 0, "layer.weight")]));
        StringAssert.Contains(error.Message, path);
        StringAssert.Contains(error.Message, "'layer.weight'");
    }
}
