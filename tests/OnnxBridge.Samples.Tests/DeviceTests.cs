using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;
using TorchSharp;
using static TorchSharp.torch;

namespace OnnxBridge.Samples.Tests;

/// <summary>Item 8: device queries and placement. TorchSharp runs on libtorch's CPU build here.</summary>
[TestClass]
[DoNotParallelize]
public sealed class DeviceTests
{
    [TestMethod]
    public void TryGpu_BeyondTheGpuCount_ReturnsTheCpu()
    {
        Assert.AreEqual(cuda.is_available() ? cuda.device_count() : 0, Devices.GpuCount);
        Assert.AreEqual(DeviceType.CPU, Devices.TryGpu(Devices.GpuCount).type);
        Assert.AreEqual(Math.Max(1, Devices.GpuCount), Devices.TryAllGpus().Count);
        if (Devices.GpuCount == 0) Assert.AreEqual(DeviceType.CPU, Devices.TryGpu().type);
    }

    [TestMethod]
    public void TensorsAndNetworks_OnTryGpu_StayTogether()
    {
        var device = Devices.TryGpu();
        using var x = ones([2, 3], device: device);
        var net = Net.Sequential().Linear(1).Build();
        net.to(device);

        using var y = net.forward(x);

        Assert.AreEqual(device.type, y.device.type);
        Assert.AreEqual(device.type, net.Layer<Linear>(0).Weight!.device.type, "deferred parameters materialize on the input's device");
    }
}
