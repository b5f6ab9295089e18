using System.Text;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>TorchSharp's .dat format: compatible with TorchSharp's own Module.save/load, and safe against broken files.</summary>
[TestClass]
[DoNotParallelize]
public sealed class TorchSharpDatTests
{
    private static Blocks.Sequential Net() => new(new Linear(4, 8), new ReLU(), new Linear(8, 2));

    [TestMethod]
    public void FileFromTorchSharpsModuleSave_LoadsHere()
    {
        using var temp = new TempFolder();
        var net = Net();
        net.save(temp.File("ts.dat"));
        var fresh = Net();

        StateDicts.Load(fresh, temp.File("ts.dat"));

        using var x = rand(3, 4);
        Assert.IsTrue(fresh.forward(x).allclose(net.forward(x), rtol: 0, atol: 0));
    }

    [TestMethod]
    public void OurFile_LoadsWithTorchSharpsModuleLoad()
    {
        using var temp = new TempFolder();
        var net = Net();
        StateDicts.Save(net, temp.File("ours.dat"));
        var fresh = Net();

        fresh.load(temp.File("ours.dat"));

        using var x = rand(3, 4);
        Assert.IsTrue(fresh.forward(x).allclose(net.forward(x), rtol: 0, atol: 0));
    }

    [TestMethod]
    public void BrokenFiles_AllGiveTorchSharpDatException_WithBoundedMemory()
    {
        using var temp = new TempFolder();
        StateDicts.Save(Net(), temp.File("good.dat"));
        var good = File.ReadAllBytes(temp.File("good.dat"));
        var corpus = new List<(string, byte[])>();
        for (int i = 0; i < 80; i++)
        {
            var length = (int)((long)i * (good.Length - 1) / 79);
            corpus.Add(($"truncated to {length}", good[..length]));
        }
        byte[] Entry(byte[] key, params byte[] rest) => [.. new byte[] { 1 }, .. key, .. rest];
        var w = Encoding.UTF8.GetBytes("w");
        corpus.Add(("count of 2^62", [0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40]));
        corpus.Add(("count over 10 LEB128 bytes", [.. Enumerable.Repeat((byte)0xff, 11)]));
        corpus.Add(("key length beyond the file", Entry([0xff, 0xff, 0xff, 0x7f, (byte)'w'])));
        corpus.Add(("key not UTF-8", Entry([2, 0xc3, 0x28], 6, 1, 1, 0, 0, 0, 0)));
        corpus.Add(("unknown dtype code", Entry([1, .. w], 99, 0)));
        corpus.Add(("65 dimensions", Entry([1, .. w], 6, 65)));
        corpus.Add(("gigantic dimensions", Entry([1, .. w], 6, 2, 0xff, 0xff, 0xff, 0xff, 0x0f, 0xff, 0xff, 0xff, 0xff, 0x0f)));
        corpus.Add(("data shorter than the shape", Entry([1, .. w], 6, 1, 4, 0, 0, 0, 0)));
        corpus.Add(("bytes after the last entry", [.. good, 0]));
        MalformedFiles.AssertAllRejected<TorchSharpDatException>(corpus, ".dat", path => StateDicts.Read(path), slackBytes: 256 * 1024);
    }
}
