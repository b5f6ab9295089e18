using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Samples.Chapter.Blocks;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Items 6 and 7: custom layers; tensors, lists, dicts and parameters in files.</summary>
[TestClass]
[DoNotParallelize]
public sealed class CustomLayerAndFileTests
{
    [TestMethod]
    public void CenteredLayer_SubtractsTheMean()
    {
        var layer = new CenteredLayer();
        CollectionAssert.AreEqual(new float[] { -2, -1, 0, 1, 2 }, layer.forward(tensor(new float[] { 1, 2, 3, 4, 5 })).data<float>().ToArray());

        var net = new Sequential(new Linear(128), new CenteredLayer());
        Assert.AreEqual(0, net.forward(rand(4, 8)).mean().item<float>(), 1e-6);
    }

    [TestMethod]
    public void MyLinear_HasNamedParametersAndComputesReluAffine()
    {
        var linear = new MyLinear(5, 3);
        using var x = rand(2, 5);

        CollectionAssert.AreEqual(new[] { "weight", "bias" }, linear.named_parameters().Select(p => p.name).ToArray());
        CollectionAssert.AreEqual(new long[] { 5, 3 }, linear.Weight.shape);
        Assert.IsTrue(nn.functional.relu(x.matmul(linear.Weight) + linear.Bias).allclose(linear.forward(x), rtol: 0, atol: 0));

        var net = new Sequential(new MyLinear(64, 8), new MyLinear(8, 1));
        CollectionAssert.AreEqual(new long[] { 2, 1 }, net.forward(rand(2, 64)).shape);
        CollectionAssert.AreEqual(new[] { "0.weight", "0.bias", "1.weight", "1.bias" }, net.state_dict().Keys.ToArray());
        Assert.AreEqual("Sequential(\n  (0): MyLinear(in_units=64, units=8)\n  (1): MyLinear(in_units=8, units=1)\n)", net.ToString());
    }

    [TestMethod]
    public void TensorFiles_TensorListAndDict_RoundTripExactly()
    {
        using var temp = new TempFolder();
        var x = arange(4, ScalarType.Float32);
        var y = zeros(4, ScalarType.Int64);

        TensorFiles.Save(temp.File("x.safetensors"), x);
        TensorFiles.SaveList(temp.File("xy.safetensors"), [x, y]);
        TensorFiles.SaveDict(temp.File("dict.safetensors"), new Dictionary<string, Tensor> { ["x"] = x, ["y"] = y });

        Assert.IsTrue(TensorFiles.Load(temp.File("x.safetensors")).equal(x).all().item<bool>());
        var list = TensorFiles.LoadList(temp.File("xy.safetensors"));
        Assert.AreEqual(2, list.Count);
        Assert.AreEqual(ScalarType.Int64, list[1].dtype);
        var dict = TensorFiles.LoadDict(temp.File("dict.safetensors"));
        CollectionAssert.AreEqual(new[] { "x", "y" }, dict.Keys.ToArray());
        CollectionAssert.AreEqual(new float[] { 0, 1, 2, 3 }, dict["x"].data<float>().ToArray());
    }

    [TestMethod]
    public void TensorFiles_WrongContainer_FailsNamingBoth()
    {
        using var temp = new TempFolder();
        TensorFiles.SaveList(temp.File("xy.safetensors"), [zeros(1)]);

        var error = Assert.ThrowsExactly<SafetensorsException>(() => TensorFiles.LoadDict(temp.File("xy.safetensors")));

        StringAssert.EndsWith(error.Message, "holds a list, not a dict; load it with the matching TensorFiles method");
    }

    [TestMethod]
    public void ModelParameters_CloneLoadedFromFile_GivesIdenticalOutputs()
    {
        using var temp = new TempFolder();
        var net = new Mlp();
        using var x = randn(2, 20);
        using var y = net.forward(x);
        StateDicts.Save(net, temp.File("mlp.params.pt"));

        var clone = new Mlp();
        StateDicts.Load(clone, temp.File("mlp.params.pt"));

        Assert.IsTrue(clone.forward(x).allclose(y, rtol: 0, atol: 0));
    }
}
