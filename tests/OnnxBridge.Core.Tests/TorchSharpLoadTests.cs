using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

[TestClass]
[DoNotParallelize]
public sealed class TorchSharpLoadTests
{
    [TestMethod]
    public void Matmul_OnCpu_ComputesTheProduct()
    {
        // Fails with "doesn't contain a reference to libtorch-cpu-linux-x64" when the build did not
        // mark GLIBCXX_3.4.32 weak in libLibTorchSharp.so (Debian 12).
        using var a = tensor(new float[] { 1, 2, 3, 4 }, [2, 2]);
        using var b = tensor(new float[] { 5, 6, 7, 8 }, [2, 2]);
        using var product = a.matmul(b);

        CollectionAssert.AreEqual(new float[] { 19, 22, 43, 50 }, product.data<float>().ToArray());
    }
}
