using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Runtime.Tests;

/// <summary>The ONNX Runtime settings record and I/O binding: settings reach ONNX Runtime, and bound runs equal unbound ones.</summary>
[TestClass]
[DoNotParallelize]
public sealed class RuntimeOptionsAndBindingTests
{
    private static readonly byte[] Model = TestGraphs.Affine([1, 2, 3, 4, 5, 6], [0.5f, -1]);

    private static HostTensor Rows(int batch, int seed)
    {
        var random = new Random(seed);
        return HostTensor.Create(Enumerable.Range(0, batch * 3).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray(), batch, 3);
    }

    [TestMethod]
    public void Bind_RunsOnNewDataInTheBoundBuffer_EqualToUnboundRuns()
    {
        using var session = OnnxModelSession.Open(Model);
        var first = Rows(5, seed: 1);
        using var bound = session.Bind([new NamedTensor("x", first)]);
        var results = new List<(float[] Bound, float[] Unbound)>();

        foreach (var seed in new[] { 1, 2, 3 })
        {
            var rows = Rows(5, seed);
            rows.Bytes.Span.CopyTo(bound.Input(0));
            bound.Run();
            results.Add((bound.OutputTensor(0).ToArray<float>(), session.Run([new NamedTensor("x", rows)])[0].Tensor.ToArray<float>()));
        }

        CollectionAssert.AreEqual(new long[] { 5, 2 }, bound.OutputShapes[0].ToArray());
        Assert.AreEqual("y", bound.OutputNames[0]);
        foreach (var (boundValues, unbound) in results) CollectionAssert.AreEqual(unbound, boundValues, "a bound run gives the unbound run's bits");
        CollectionAssert.AreNotEqual(results[0].Bound, results[1].Bound, "the second run saw the new data");
    }

    [TestMethod]
    public void Bind_OutputsOnDeviceOffCuda_IsRefusedWithTheReason()
    {
        using var session = OnnxModelSession.Open(Model);

        var error = Assert.ThrowsExactly<ArgumentException>(() => session.Bind([new NamedTensor("x", Rows(1, 0))], outputsOnDevice: true));

        StringAssert.StartsWith(error.Message, "outputs can stay on the device only when the session runs on CUDA");
    }

    [TestMethod]
    public void Bind_WrongInputName_ListsTheModelsInputs()
    {
        using var session = OnnxModelSession.Open(Model);

        var error = Assert.ThrowsExactly<ArgumentException>(() => session.Bind([new NamedTensor("pixels", Rows(1, 0))]));

        StringAssert.StartsWith(error.Message, "the model has no input 'pixels'; its inputs are x");
    }

    [TestMethod]
    public void Open_EverySettingCombination_GivesTheSameResults()
    {
        var rows = Rows(7, seed: 4);
        using var reference = OnnxModelSession.Open(Model);
        var expected = reference.Run([new NamedTensor("x", rows)])[0].Tensor.ToArray<float>();
        var variants = new[]
        {
            new OnnxRuntimeOptions { IntraOpThreads = 1, Spinning = false },
            new OnnxRuntimeOptions { ParallelExecution = true, InterOpThreads = 2 },
            new OnnxRuntimeOptions { Optimization = GraphOptimization.Disabled, MemoryPattern = false, CpuArena = false },
            new OnnxRuntimeOptions { Optimization = GraphOptimization.Basic },
        };

        foreach (var options in variants)
        {
            using var session = OnnxModelSession.Open(Model, options);
            CollectionAssert.AreEqual(expected, session.Run([new NamedTensor("x", rows)])[0].Tensor.ToArray<float>(), options.ToString());
            Assert.AreEqual(options, session.Options);
        }
    }

    [TestMethod]
    public void Open_OptimizedModelPath_WritesTheOptimizedModel()
    {
        var folder = Directory.CreateTempSubdirectory("onnxbridge-optimized-");
        try
        {
            var path = Path.Combine(folder.FullName, "optimized.onnx");

            using var session = OnnxModelSession.Open(Model, new OnnxRuntimeOptions { OptimizedModelPath = path });

            Assert.IsTrue(new FileInfo(path).Length > 0, "ONNX Runtime wrote the optimized graph");
            using var reopened = OnnxModelSession.Open(path);
            CollectionAssert.AreEqual(session.Run([new NamedTensor("x", Rows(2, 9))])[0].Tensor.ToArray<float>(), reopened.Run([new NamedTensor("x", Rows(2, 9))])[0].Tensor.ToArray<float>());
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [TestMethod]
    [DataRow(-1, 0, "intra-op threads must be in [0, 1024], got -1")]
    [DataRow(0, 5000, "inter-op threads must be in [0, 1024], got 5000")]
    public void Open_OutOfRangeSetting_IsRefusedNamingIt(int intra, int inter, string message)
    {
        var error = Assert.ThrowsExactly<ArgumentException>(() => OnnxModelSession.Open(Model, new OnnxRuntimeOptions { IntraOpThreads = intra, InterOpThreads = inter }));

        Assert.AreEqual(message, error.Message);
    }

    [TestMethod]
    public void ToString_NamesEverySetting()
    {
        Assert.AreEqual("threads 0 (intra) / 0 (inter), sequential, spinning on, optimization all, memory pattern on, arena on", OnnxRuntimeOptions.Default.ToString());
        Assert.AreEqual("threads 2 (intra) / 1 (inter), parallel, spinning off, optimization basic, memory pattern on, arena on, TF32 on",
            new OnnxRuntimeOptions { IntraOpThreads = 2, InterOpThreads = 1, ParallelExecution = true, Spinning = false, Optimization = GraphOptimization.Basic, Tf32 = true }.ToString());
    }
}
