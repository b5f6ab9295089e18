using System.Text.Json;
using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Core.Tests;

/// <summary>
/// Default initialization of the new parametric layers against PyTorch's: for each layer, large
/// enough that statistics are stable, PyTorch (Debian's python3-torch 1.13) reports the mean, std
/// and largest |value| of every parameter as its own constructor draws them, and ours must agree —
/// the same distribution family and bounds (U(−1/√fan_in, 1/√fan_in), N(0, 1), constants).
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class InitializationConformanceTests
{
    private const string Script = """
        import json, torch
        from torch import nn
        torch.manual_seed(0)
        layers = {
            "conv1d": nn.Conv1d(32, 64, 5),
            "conv2d_groups": nn.Conv2d(32, 64, 3, groups=4),
            "conv3d": nn.Conv3d(8, 16, 3),
            "conv_transpose1d": nn.ConvTranspose1d(32, 64, 5),
            "conv_transpose2d_groups": nn.ConvTranspose2d(32, 64, 3, groups=2),
            "embedding": nn.Embedding(1000, 64, padding_idx=3),
            "prelu": nn.PReLU(8, init=0.1),
            "layernorm": nn.LayerNorm([4, 8]),
            "groupnorm": nn.GroupNorm(2, 8),
            "instancenorm_affine": nn.InstanceNorm2d(8, affine=True),
        }
        out = {}
        for name, layer in layers.items():
            out[name] = {k: {"shape": list(p.shape), "mean": p.mean().item(), "std": p.std().item() if p.numel() > 1 else 0.0,
                             "max_abs": p.abs().max().item()} for k, p in layer.named_parameters()}
        print(json.dumps(out))
        """;

    private static readonly Dictionary<string, Func<Block>> Ours = new(StringComparer.Ordinal)
    {
        ["conv1d"] = () => new Conv1d(32, 64, [5]),
        ["conv2d_groups"] = () => new Conv2d(32, 64, [3], groups: 4),
        ["conv3d"] = () => new Conv3d(8, 16, [3]),
        ["conv_transpose1d"] = () => new ConvTranspose1d(32, 64, [5]),
        ["conv_transpose2d_groups"] = () => new ConvTranspose2d(32, 64, [3], groups: 2),
        ["embedding"] = () => new Embedding(1000, 64, paddingIdx: 3),
        ["prelu"] = () => new PReLU(8, 0.1),
        ["layernorm"] = () => new LayerNorm([4, 8]),
        ["groupnorm"] = () => new GroupNorm(2, 8),
        ["instancenorm_affine"] = () => new InstanceNorm(8, 4, affine: true),
    };

    [TestMethod]
    public void DefaultInitialization_HasPyTorchsShapesAndDistributions()
    {
        using var report = JsonDocument.Parse(PythonTorch.Run(Script));
        var failures = new List<string>();
        random.manual_seed(0);
        foreach (var (name, create) in Ours)
        {
            var layer = create();
            var theirs = report.RootElement.GetProperty(name);
            var ours = layer.named_parameters().ToDictionary(p => p.name, p => p.parameter);
            CollectionAssert.AreEquivalent(theirs.EnumerateObject().Select(p => p.Name).ToList(), ours.Keys.ToList(), name);
            foreach (var (key, parameter) in ours)
            {
                var expected = theirs.GetProperty(key);
                var shape = expected.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
                if (!parameter.shape.SequenceEqual(shape)) failures.Add($"{name}.{key}: shape [{string.Join(", ", parameter.shape)}], PyTorch [{string.Join(", ", shape)}]");
                // Statistics of thousands of draws: within 5 % of PyTorch's (its and ours are both samples).
                var (mean, std, maxAbs) = (parameter.mean().item<float>(), parameter.numel() > 1 ? parameter.std().item<float>() : 0f, parameter.abs().max().item<float>());
                var (theirMean, theirStd) = (expected.GetProperty("mean").GetDouble(), expected.GetProperty("std").GetDouble());
                Close(failures, $"{name}.{key} std", std, theirStd);
                Close(failures, $"{name}.{key} max |value|", maxAbs, expected.GetProperty("max_abs").GetDouble());
                // The mean of a random draw is near 0 within a few std/√n; a constant's is exact.
                if (Math.Abs(mean - theirMean) > 0.05 * theirStd + 1e-6) failures.Add($"{name}.{key}: mean {mean}, PyTorch {theirMean}");
            }
            if (layer is Embedding embedding)
                Assert.AreEqual(0f, embedding.Weight[3].abs().sum().item<float>(), "the padding row starts at zero, as PyTorch's");
        }
        Assert.AreEqual(0, failures.Count, string.Join("\n", failures));
    }

    private static void Close(List<string> failures, string what, double ours, double theirs)
    {
        if (Math.Abs(ours - theirs) > 0.05 * Math.Abs(theirs) + 1e-6) failures.Add($"{what}: {ours:0.0000}, PyTorch {theirs:0.0000}");
    }
}
