using System.Diagnostics;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Serialization;
using OnnxBridge.Training.Checkpoints;
using OnnxBridge.Training.History;
using OnnxBridge.Tests.Shared;
using static TorchSharp.torch;

namespace OnnxBridge.Training.Tests;

/// <summary>Checkpoints are written atomically and loaded all-or-nothing.</summary>
[TestClass]
[DoNotParallelize]
public sealed class CheckpointTests
{
    [TestMethod]
    public void SaveKilledAtRandomPoints_AlwaysLeavesAWholeCheckpoint()
    {
        using var temp = new TempFolder();
        var path = temp.File("run.ckpt");
        var helper = Path.Combine(AppContext.BaseDirectory, "CheckpointLoop.dll");
        var random = new Random(7);
        var seen = new HashSet<int>();

        for (int round = 0; round < 12; round++)
        {
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true };
            foreach (var a in new[] { helper, path, "16" }) start.ArgumentList.Add(a);
            using var process = Process.Start(start)!;
            Assert.IsNotNull(process.StandardOutput.ReadLine(), "the checkpoint loop ended before its first save");
            Thread.Sleep(random.Next(0, 150));
            process.Kill(entireProcessTree: true);
            process.WaitForExit();

            var model = new Linear(4096, 1024, bias: false);
            using var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
            var (epoch, history) = Checkpoint.Load(path, model, optimizer);
            var weights = model.Weight!.data<float>().ToArray();
            Assert.IsTrue(weights.All(w => w == epoch), $"round {round}: the checkpoint of epoch {epoch} holds weights of another save");
            Assert.AreEqual(epoch, history.Epochs.Count);
            seen.Add(epoch);
        }

        Assert.AreEqual(2, seen.Count, "the kills should land after both kinds of save");
    }

    [TestMethod]
    public void Load_CheckpointOfAnotherModel_FailsAndChangesNothing()
    {
        using var temp = new TempFolder();
        var path = temp.File("other.ckpt");
        var other = new Linear(5, 3);
        using (var otherOptimizer = optim.Adam(other.parameters()))
            Checkpoint.Save(path, other, otherOptimizer, 1, new TrainingHistory([new EpochMetrics(1, 0.1, 1, null, null, null, 0, 0, 0)]), "test");
        var model = new Linear(5, 4);
        using var optimizer = optim.Adam(model.parameters());
        var before = model.Weight!.clone();

        var error = Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(path, model, optimizer));

        StringAssert.Contains(error.Message, "'weight': expected shape [4, 5], found [3, 5]");
        StringAssert.Contains(error.Message, path);
        Assert.IsTrue(model.Weight!.allclose(before, rtol: 0, atol: 0), "a failed load changes nothing");
    }

    [TestMethod]
    public void Load_PlainStateDict_IsNotACheckpoint()
    {
        using var temp = new TempFolder();
        var path = temp.File("weights.safetensors");
        var model = new Linear(2, 2);
        StateDicts.Save(model, path);
        using var optimizer = optim.SGD(model.parameters(), 0.1);

        var error = Assert.ThrowsExactly<CheckpointException>(() => Checkpoint.Load(path, model, optimizer));

        Assert.AreEqual($"'{path}' is a safetensors file but not an OnnxBridge checkpoint (its metadata has no \"format\": \"onnxbridge.checkpoint\")", error.Message);
    }

    [TestMethod]
    public void Save_OptimizerState_RoundTripsMomentum()
    {
        using var temp = new TempFolder();
        var path = temp.File("momentum.ckpt");
        random.manual_seed(1);
        var model = new Linear(3, 2);
        using var optimizer = optim.SGD(model.parameters(), 0.1, momentum: 0.9);
        Step(model, optimizer);
        Checkpoint.Save(path, model, optimizer, 1, new TrainingHistory([new EpochMetrics(1, 0.1, 1, null, null, null, 0, 0, 0)]), "test");
        Step(model, optimizer);
        var expected = model.Weight!.clone();

        var restored = new Linear(3, 2);
        using var restoredOptimizer = optim.SGD(restored.parameters(), 0.1, momentum: 0.9);
        Checkpoint.Load(path, restored, restoredOptimizer);
        Step(restored, restoredOptimizer);

        Assert.IsTrue(restored.Weight!.allclose(expected, rtol: 0, atol: 0), "the second step needs the saved momentum buffer to match");
    }

    private static void Step(Linear model, optim.Optimizer optimizer)
    {
        using var scope = NewDisposeScope();
        optimizer.zero_grad();
        model.forward(ones(4, 3)).square().sum().backward();
        optimizer.step();
    }
}
