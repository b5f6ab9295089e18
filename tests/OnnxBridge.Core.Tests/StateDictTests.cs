using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Core.Values;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

[TestClass]
[DoNotParallelize]
public sealed class StateDictTests
{
    [TestMethod]
    [DataRow(".safetensors")]
    [DataRow(".pt")]
    [DataRow(".dat")]
    public void Save_StreamsFromTensorMemory_WithoutAHostCopy(string extension)
    {
        using var temp = new TempFolder();
        var net = new Linear(1000, 4000);   // 4,004,000 float32 values: 16 MB
        StateDicts.Save(net, temp.File("warm-up" + extension));

        var before = GC.GetAllocatedBytesForCurrentThread();
        StateDicts.Save(net, temp.File("big" + extension));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.IsTrue(allocated < 1 << 20, $"saving 16 MB of weights as {extension} allocated {allocated} managed bytes: a host copy crept back in");
        var fresh = new Linear(1000, 4000);
        StateDicts.Load(fresh, temp.File("big" + extension));
        Assert.IsTrue(fresh.Weight!.equal(net.Weight!).all().item<bool>() && fresh.Bias!.equal(net.Bias!).all().item<bool>(), "the streamed file loads back bit for bit");
    }

    /// <summary>
    /// Reads a safetensors file as its format defines it (8-byte header length, JSON header, raw
    /// little-endian data; Debian ships no safetensors package) and strict-loads it into PyTorch's
    /// own Sequential(Linear, BatchNorm1d, ReLU, Linear) in eval mode, then runs it on data.pt's x.
    /// </summary>
    private const string SafetensorsInPyTorch = """
        import json, struct, sys, torch
        raw = open(sys.argv[1], "rb").read()
        (n,) = struct.unpack("<Q", raw[:8])
        header = json.loads(raw[8:8 + n])
        meta = header.pop("__metadata__", {})
        types = {"F32": torch.float32, "I64": torch.int64}
        state = {}
        for key, e in header.items():
            a, b = e["data_offsets"]
            state[key] = torch.frombuffer(bytearray(raw[8 + n + a:8 + n + b]), dtype=types[e["dtype"]]).reshape(e["shape"])
        net = torch.nn.Sequential(torch.nn.Linear(20, 8), torch.nn.BatchNorm1d(8), torch.nn.ReLU(), torch.nn.Linear(8, 3))
        net.load_state_dict(state, strict=True)
        net.eval()
        data = torch.load(sys.argv[2])
        print(json.dumps({"keys": list(header.keys()), "dtypes": {k: e["dtype"] for k, e in header.items()},
                          "format": meta.get("format"), "max_diff": (net(data["x"]) - data["y"]).abs().max().item()}))
        """;

    [TestMethod]
    public void Save_Safetensors_Streamed_StrictLoadsInPyTorch_WithPyTorchsKeysAndOutputs()
    {
        using var temp = new TempFolder();
        random.manual_seed(31);
        var net = Net.Sequential().Linear(20, 8).BatchNorm1d(8).ReLU().Linear(8, 3).Build();
        using (var train = randn(16, 20)) net.forward(train);   // running statistics that differ from the initial ones
        net.eval();
        using var x = randn(5, 20);
        using var y = net.forward(x);
        StateDicts.Save(net, temp.File("net.safetensors"));
        StateDicts.Write(temp.File("data.pt"), [("x", TensorConvert.ToHost(x)), ("y", TensorConvert.ToHost(y))]);

        using var report = System.Text.Json.JsonDocument.Parse(PythonTorch.Run(SafetensorsInPyTorch, temp.File("net.safetensors"), temp.File("data.pt")));

        CollectionAssert.AreEqual(net.state_dict().Keys.ToArray(), report.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetString()).ToArray());
        Assert.AreEqual("I64", report.RootElement.GetProperty("dtypes").GetProperty("1.num_batches_tracked").GetString());
        Assert.AreEqual("pt", report.RootElement.GetProperty("format").GetString());
        Assert.IsTrue(report.RootElement.GetProperty("max_diff").GetDouble() <= 1e-5, report.RootElement.ToString());
    }

    [TestMethod]
    [DataRow("mlp.safetensors")]
    [DataRow("mlp.pt")]
    [DataRow("mlp.dat")]
    public void SaveLoad_IntoFreshDeferredNetwork_ReproducesOutputsBitForBit(string file)
    {
        using var temp = new TempFolder();
        random.manual_seed(21);
        var net = TestModels.SequentialMlp();
        using var x = randn(9, 20);
        using var expected = net.forward(x);
        StateDicts.Save(net, temp.File(file));

        var fresh = TestModels.SequentialMlp();
        var result = StateDicts.Load(fresh, temp.File(file));
        using var actual = fresh.forward(x);

        Assert.AreEqual(0, result.MissingKeys.Count + result.UnexpectedKeys.Count);
        Assert.IsTrue(expected.allclose(actual, rtol: 0, atol: 0), "reloaded outputs differ");
        Assert.AreEqual(20L, ((Linear)fresh[0]).InFeatures);
    }

    [TestMethod]
    public void Save_WritesSafetensorsHeaderWithPyTorchKeys()
    {
        using var temp = new TempFolder();
        var net = TestModels.SequentialMlp();
        net.Build(TestModels.Input20);
        StateDicts.Save(net, temp.File("mlp.safetensors"));

        var bytes = File.ReadAllBytes(temp.File("mlp.safetensors"));
        var headerLength = (int)BitConverter.ToUInt64(bytes, 0);
        var header = System.Text.Encoding.UTF8.GetString(bytes, 8, headerLength);

        Assert.AreEqual(0, headerLength % 8);
        StringAssert.Contains(header, "\"0.weight\":{\"dtype\":\"F32\",\"shape\":[256,20],\"data_offsets\":[0,20480]}");
        Assert.AreEqual(8 + headerLength + 4L * (256 * 20 + 256 + 10 * 256 + 10), bytes.Length);
        CollectionAssert.AreEqual(new[] { "mlp.safetensors" }, Directory.GetFiles(temp.Path).Select(Path.GetFileName).ToArray(), "no temporary file may remain");
    }

    [TestMethod]
    public void Load_WrongArchitecture_ListsEveryProblemAndChangesNothing()
    {
        using var temp = new TempFolder();
        var source = new OnnxBridge.Core.Blocks.Sequential(new Linear(20, 8), new ReLU(), new Linear(8, 3));
        StateDicts.Save(source, temp.File("small.safetensors"));
        var target = new OnnxBridge.Core.Blocks.Sequential(new Linear(20, 8), new ReLU(), new Linear(8, 4), new ReLU(), new Linear(4, 2));
        var before = StateDicts.Capture(target);

        var error = Assert.ThrowsExactly<StateDictException>(() => StateDicts.Load(target, temp.File("small.safetensors")));

        CollectionAssert.AreEqual(new[] { "4.weight", "4.bias" }, error.MissingKeys.ToArray());
        CollectionAssert.AreEqual(new[] { "'2.weight': expected shape [4, 8], found [3, 8]", "'2.bias': expected shape [4], found [3]" }, error.Mismatches.ToArray());
        StringAssert.Contains(error.Message, "nothing was loaded");
        var after = StateDicts.Capture(target);
        for (int i = 0; i < before.Count; i++)
            CollectionAssert.AreEqual(before[i].Tensor.Bytes.ToArray(), after[i].Tensor.Bytes.ToArray(), $"{before[i].Key} changed");
    }

    [TestMethod]
    public void Load_UnexpectedKeysNonStrict_ReturnsThemAndLoadsTheRest()
    {
        using var temp = new TempFolder();
        random.manual_seed(5);
        var source = new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 3), new ReLU(), new Linear(3, 1));
        StateDicts.Save(source, temp.File("two.safetensors"));
        var target = new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 3));

        var result = StateDicts.Load(target, temp.File("two.safetensors"), strict: false);

        CollectionAssert.AreEqual(new[] { "2.weight", "2.bias" }, result.UnexpectedKeys.ToArray());
        Assert.IsTrue(((Linear)source[0]).Weight!.allclose(((Linear)target[0]).Weight!, rtol: 0, atol: 0));
    }

    [TestMethod]
    public void Load_DeferredLayerWithWrongOutputSize_FailsBeforeMaterializing()
    {
        using var temp = new TempFolder();
        StateDicts.Save(new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 3)), temp.File("w.safetensors"));
        var target = new OnnxBridge.Core.Blocks.Sequential(new Linear(5));

        var error = Assert.ThrowsExactly<StateDictException>(() => StateDicts.Load(target, temp.File("w.safetensors")));

        StringAssert.Contains(error.Message, "block '0': Linear(5) takes its input size from a 'weight' of shape [5, in_features], found 'weight' of shape [3, 2]");
        Assert.IsFalse(target.IsBuilt);
    }

    [TestMethod]
    public void Save_UnbuiltNetwork_FailsNamingTheBlock()
    {
        using var temp = new TempFolder();

        var error = Assert.ThrowsExactly<InvalidOperationException>(() => StateDicts.Save(TestModels.SequentialMlp(), temp.File("x.safetensors")));

        StringAssert.StartsWith(error.Message, "block '0' has deferred parameters");
        Assert.IsFalse(File.Exists(temp.File("x.safetensors")));
    }

    [TestMethod]
    public void Load_TruncatedFile_FailsWithTypedErrorNamingThePath()
    {
        using var temp = new TempFolder();
        var net = new OnnxBridge.Core.Blocks.Sequential(new Linear(2, 3));
        StateDicts.Save(net, temp.File("w.safetensors"));
        var bytes = File.ReadAllBytes(temp.File("w.safetensors"));
        File.WriteAllBytes(temp.File("cut.safetensors"), bytes[..^4]);

        var error = Assert.ThrowsExactly<SafetensorsException>(() => StateDicts.Load(net, temp.File("cut.safetensors")));

        StringAssert.Contains(error.Message, "cut.safetensors' is not a valid safetensors file: tensor '0.bias' ends at 36, past the data buffer (32 bytes)");
    }
}
