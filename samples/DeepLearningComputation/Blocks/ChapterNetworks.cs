using System.Globalization;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Builder;
using OnnxBridge.Core.Layers;

namespace OnnxBridge.Samples.Chapter.Blocks;

/// <summary>The chapter's networks that are functions rather than classes.</summary>
public static class ChapterNetworks
{
    /// <summary><c>nn.Sequential(nn.LazyLinear(256), nn.ReLU(), nn.LazyLinear(10))</c>.</summary>
    public static Sequential FirstNet() => Net.Sequential().Linear(256).ReLU().Linear(10).Build();

    /// <summary><c>block1()</c>: Linear(4, 8), ReLU, Linear(8, 4), ReLU.</summary>
    public static Sequential Block1() => Net.Sequential().Linear(4, 8).ReLU().Linear(8, 4).ReLU().Build();

    /// <summary><c>block2()</c>: four <see cref="Block1"/>s named <c>block 0</c> … <c>block 3</c>.</summary>
    public static Sequential Block2()
    {
        var net = new Sequential();
        for (int i = 0; i < 4; i++) net.Append(string.Create(CultureInfo.InvariantCulture, $"block {i}"), Block1());
        return net;
    }

    /// <summary><c>rgnet = nn.Sequential(block2(), nn.Linear(4, 1))</c>.</summary>
    public static Sequential RgNet() => new(Block2(), new Linear(4, 1));

    /// <summary>The tied network: one <c>shared</c> layer at positions 2 and 4.</summary>
    public static Sequential TiedNet(out Linear shared)
    {
        shared = new Linear(8);
        return Net.Sequential().Linear(8).ReLU().Add(shared).ReLU().Add(shared).ReLU().Linear(1).Build();
    }

    /// <summary><c>chimera = nn.Sequential(NestMLP(), nn.LazyLinear(20), FixedHiddenMLP())</c>.</summary>
    public static Sequential Chimera() => new(new NestMlp(), new Linear(20), new FixedHiddenMlp());
}
