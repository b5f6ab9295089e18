using System.Text.Json;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>Every format × dtype × container round-trips; real PyTorch reads our .pt files and we read its.</summary>
[TestClass]
[DoNotParallelize]
public sealed class FileFormatTests
{
    private static readonly ScalarType[] AllTypes =
    [
        ScalarType.Float32, ScalarType.Float64, ScalarType.Float16, ScalarType.BFloat16, ScalarType.Int64,
        ScalarType.Int32, ScalarType.Int16, ScalarType.Int8, ScalarType.Byte, ScalarType.Bool,
    ];

    /// <summary>One small tensor per dtype, with values that differ element to element.</summary>
    private static Dictionary<string, Tensor> EveryDtype() => AllTypes.ToDictionary(
        t => t.ToString(),
        t => t == ScalarType.Bool ? arange(6).remainder(2).eq(0).reshape(2, 3) : (arange(6, ScalarType.Float64) * 1.5 - 3).to(t).reshape(2, 3));

    private static void AssertSame(Tensor expected, Tensor actual, string what)
    {
        Assert.AreEqual(expected.dtype, actual.dtype, what);
        CollectionAssert.AreEqual(expected.shape, actual.shape, what);
        CollectionAssert.AreEqual(expected.bytes.ToArray(), actual.bytes.ToArray(), what);
    }

    [TestMethod]
    [DataRow(".pt")]
    [DataRow(".safetensors")]
    [DataRow(".dat")]
    public void EveryContainer_EveryDtype_RoundTripsExactly(string extension)
    {
        using var temp = new TempFolder();
        var tensors = EveryDtype();

        TensorFiles.SaveDict(temp.File("dict" + extension), tensors);
        TensorFiles.SaveList(temp.File("list" + extension), [.. tensors.Values]);
        StateDicts.Write(temp.File("state" + extension), [.. tensors.Select(kv => (kv.Key, Values.TensorConvert.ToHost(kv.Value)))]);
        var dict = TensorFiles.LoadDict(temp.File("dict" + extension));
        var list = TensorFiles.LoadList(temp.File("list" + extension));
        var state = StateDicts.Read(temp.File("state" + extension));

        CollectionAssert.AreEqual(tensors.Keys.ToArray(), dict.Keys.ToArray());
        CollectionAssert.AreEqual(tensors.Keys.ToArray(), state.Select(e => e.Key).ToArray());
        var i = 0;
        foreach (var (name, expected) in tensors)
        {
            AssertSame(expected, dict[name], "dict " + name);
            AssertSame(expected, list[i], "list " + name);
            AssertSame(expected, Values.TensorConvert.ToTorch(state[i].Tensor), "state dict " + name);
            TensorFiles.Save(temp.File("one" + extension), expected);
            AssertSame(expected, TensorFiles.Load(temp.File("one" + extension)), "tensor " + name);
            i++;
        }
    }

    [TestMethod]
    [DataRow(".pt")]
    [DataRow(".safetensors")]
    [DataRow(".dat")]
    public void ListFile_LoadedAsATensor_FailsNamingTheContainer(string extension)
    {
        using var temp = new TempFolder();
        TensorFiles.SaveList(temp.File("xy" + extension), [arange(4, ScalarType.Float32), zeros(2, ScalarType.Int64)]);

        var error = Assert.Throws<Exception>(() => TensorFiles.Load(temp.File("xy" + extension)));

        Assert.IsTrue(error is SafetensorsException or PyTorchFileException or TorchSharpDatException, error.GetType().Name);
        StringAssert.Contains(error.Message, "not a tensor");
    }

    [TestMethod]
    public void UnknownExtension_NamesTheChoices()
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => TensorFiles.Save("/tmp/x.weights", zeros(1)));

        StringAssert.StartsWith(error.Message, "cannot tell the format of '/tmp/x.weights' from its extension '.weights': use .safetensors, .pt, .pth, .bin or .dat, or name the format");
    }

    [TestMethod]
    public void TiedStateDict_InPtFormat_SharesOneStorage()
    {
        using var temp = new TempFolder();
        var shared = new Linear(3, 3);
        var net = new Blocks.Sequential(shared, new ReLU(), shared);
        StateDicts.Save(net, temp.File("tied.pt"));

        using var zip = System.IO.Compression.ZipFile.OpenRead(temp.File("tied.pt"));
        var fresh = new Blocks.Sequential(new Linear(3), new ReLU(), new Linear(3));
        StateDicts.Load(fresh, temp.File("tied.pt"));

        Assert.AreEqual(2, zip.Entries.Count(e => e.FullName.StartsWith("archive/data/", StringComparison.Ordinal)), "weight and bias once each");
        Assert.IsTrue(((Linear)fresh[0]).Weight!.allclose(shared.Weight!, rtol: 0, atol: 0));
        Assert.IsTrue(((Linear)fresh[2]).Weight!.allclose(shared.Weight!, rtol: 0, atol: 0));
    }

    [TestMethod]
    public void OurPtFile_LoadsInPyTorchWithWeightsOnly()
    {
        using var temp = new TempFolder();
        var tensors = EveryDtype();
        TensorFiles.SaveDict(temp.File("ours.pt"), tensors);

        var json = PythonTorch.Run("""
            import json, sys, torch
            d = torch.load(sys.argv[1], weights_only=True)
            print(json.dumps({k: {"dtype": str(v.dtype), "shape": list(v.shape), "values": v.flatten().tolist()} for k, v in d.items()}))
            """, temp.File("ours.pt"));

        var loaded = JsonSerializer.Deserialize<Dictionary<string, JsonElement>>(json)!;
        CollectionAssert.AreEqual(tensors.Keys.ToArray(), loaded.Keys.ToArray());
        foreach (var (name, tensor) in tensors)
        {
            CollectionAssert.AreEqual(tensor.shape, loaded[name].GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()).ToArray(), name);
            var values = loaded[name].GetProperty("values").EnumerateArray().Select(e => e.ValueKind == JsonValueKind.True ? 1.0 : e.ValueKind == JsonValueKind.False ? 0.0 : e.GetDouble()).ToArray();
            CollectionAssert.AreEqual(tensor.to(ScalarType.Float64).data<double>().ToArray(), values, name);
        }
    }

    [TestMethod]
    public void PyTorchWrittenBroadcastAndZeroSizeTensors_LoadWithPyTorchsValues()
    {
        using var temp = new TempFolder();
        var output = PythonTorch.Run("""
            import sys, torch
            torch.manual_seed(0)
            row = torch.randn(1, 4)
            torch.save({"broadcast": row.expand(3, 4), "empty": torch.zeros(3, 0), "scalar_view": torch.tensor(2.5).expand(2, 2)}, sys.argv[1])
            print(" ".join(repr(v) for v in row.expand(3, 4).flatten().tolist()))
            """, temp.File("views.pt"));

        var tensors = TensorFiles.LoadDict(temp.File("views.pt"));

        CollectionAssert.AreEqual(output.Trim().Split(' ').Select(v => (float)double.Parse(v, System.Globalization.CultureInfo.InvariantCulture)).ToArray(), tensors["broadcast"].data<float>().ToArray());
        CollectionAssert.AreEqual(new long[] { 3, 4 }, tensors["broadcast"].shape);
        CollectionAssert.AreEqual(new long[] { 3, 0 }, tensors["empty"].shape);
        CollectionAssert.AreEqual(new[] { 2.5f, 2.5f, 2.5f, 2.5f }, tensors["scalar_view"].data<float>().ToArray());
    }

    [TestMethod]
    public void PyTorchWrittenFiles_LoadHere_IncludingViewsAndARealModule()
    {
        using var temp = new TempFolder();
        var output = PythonTorch.Run("""
            import sys, torch
            torch.manual_seed(0)
            base = torch.arange(10.0)
            torch.save({"t": torch.arange(6.0).reshape(2, 3).t(), "slice": base[2:5], "base": base,
                        "half": torch.arange(4, dtype=torch.float16), "flag": torch.tensor([True, False])}, sys.argv[1])
            net = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
            torch.save(net.state_dict(), sys.argv[2])
            x = torch.arange(12.0).reshape(3, 4) / 10
            print(" ".join(repr(v) for v in net(x).flatten().tolist()))
            """, temp.File("views.pt"), temp.File("net.pt"));

        var views = TensorFiles.LoadDict(temp.File("views.pt"));
        CollectionAssert.AreEqual(new float[] { 0, 3, 1, 4, 2, 5 }, views["t"].data<float>().ToArray());
        CollectionAssert.AreEqual(new float[] { 2, 3, 4 }, views["slice"].data<float>().ToArray());
        Assert.AreEqual(ScalarType.Float16, views["half"].dtype);
        CollectionAssert.AreEqual(new[] { true, false }, views["flag"].data<bool>().ToArray());

        var ours = new Blocks.Sequential(new Linear(8), new ReLU(), new Linear(2));
        StateDicts.Load(ours, temp.File("net.pt"));
        using var x = arange(12, ScalarType.Float32).reshape(3, 4) / 10;
        var expected = output.Trim().Split(' ').Select(double.Parse).ToArray();
        var actual = ours.forward(x).to(ScalarType.Float64).data<double>().ToArray();
        for (int i = 0; i < expected.Length; i++) Assert.AreEqual(expected[i], actual[i], 1e-6, $"output {i}");
    }
}
