using OnnxBridge.Core.Blocks;
using OnnxBridge.Core.Layers;
using OnnxBridge.Core.Values;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Tests.Shared;

namespace OnnxBridge.Training.Tests;

[TestClass]
[DoNotParallelize]
public sealed class TrainingJobTests
{
    [TestMethod]
    public void Run_ExportsOnce_TheModelFileIsTheBundlesModel()
    {
        using var temp = new TempFolder();
        var net = new Counting();
        using var train = TrainingFixtures.Data(96, seed: 1);
        using var validation = TrainingFixtures.Data(16, seed: 2);
        using var test = TrainingFixtures.Data(32, seed: 3);

        var result = TrainingJob.Run("counting", net, TrainingFixtures.Input, train, validation, test,
            new TrainerOptions { Epochs = 1, BatchSize = 32, Seed = 0 }, temp.Path);

        Assert.AreEqual(1, net.Traces, "symbolic forwards: one export serves model.onnx and the bundle");
        Assert.IsTrue(result.Parity.Passed, result.Parity.Format());
        CollectionAssert.AreEqual(File.ReadAllBytes(Path.Combine(result.BundlePath, OnnxTestCase.ModelFileName)), File.ReadAllBytes(result.ModelPath));
    }

    /// <summary>Linear(8, 3) counting its traced (symbolic) forwards.</summary>
    private sealed class Counting : Block
    {
        private readonly Linear _linear;

        public Counting() : base(nameof(Counting)) => _linear = Register("linear", new Linear(8, 3));

        public int Traces { get; private set; }

        protected override Value Forward(Value input)
        {
            if (input.IsSymbolic) Traces++;
            return _linear.Call(input);
        }
    }
}
