using OnnxBridge.Onnx.Tensors;
using OnnxBridge.Onnx.TestCases;
using OnnxBridge.Runtime.Sessions;

namespace OnnxBridge.Runtime.Tests;

[TestClass]
[DoNotParallelize]
public sealed class SessionTests
{
    private static readonly byte[] Model = TestGraphs.Affine([1, 2, 3, 4, 5, 6], [0.5f, -1]);

    private static bool CudaLoads()
    {
        try
        {
            using var session = OnnxModelSession.Open(Model, OnnxRuntimeOptions.On(ExecutionProviderPolicy.Cuda));
            return true;
        }
        catch (ExecutionProviderException)
        {
            return false;
        }
    }

    [TestMethod]
    public void Run_Cpu_ComputesTheGraph()
    {
        using var session = OnnxModelSession.Open(Model, OnnxRuntimeOptions.On(ExecutionProviderPolicy.Cpu));

        var outputs = session.Run([new NamedTensor("x", HostTensor.Create<float>([1, 1, 1, 0, 1, 0], 2, 3))]);

        Assert.AreEqual(ExecutionProvider.Cpu, session.Provider);
        Assert.AreEqual("y", outputs[0].Name);
        CollectionAssert.AreEqual(new long[] { 2, 2 }, outputs[0].Tensor.Shape.ToArray());
        CollectionAssert.AreEqual(new float[] { 6.5f, 14, 2.5f, 4 }, outputs[0].Tensor.ToArray<float>());
    }

    [TestMethod]
    public void Run_SymbolicBatch_AcceptsAnyBatchSize()
    {
        using var session = OnnxModelSession.Open(Model);

        foreach (var batch in new[] { 1, 7, 64 })
        {
            var output = session.Run([new NamedTensor("x", HostTensor.Create<float>(new float[batch * 3], batch, 3))])[0];
            Assert.AreEqual(batch, output.Tensor.Shape[0]);
        }
    }

    [TestMethod]
    public void Run_UnknownInputName_ListsTheModelsInputs()
    {
        using var session = OnnxModelSession.Open(Model);

        var error = Assert.ThrowsExactly<ArgumentException>(() => session.Run([new NamedTensor("pixels", HostTensor.Create<float>(new float[3], 1, 3))]));

        StringAssert.StartsWith(error.Message, "the model has no input 'pixels'; its inputs are x");
    }

    [TestMethod]
    public void Open_CudaWithoutGpu_FailsNamingWhatIsMissing()
    {
        if (CudaLoads()) Assert.Inconclusive("CUDA loads on this machine; the no-GPU error path cannot be observed here");

        var error = Assert.ThrowsExactly<ExecutionProviderException>(() => OnnxModelSession.Open(Model, OnnxRuntimeOptions.On(ExecutionProviderPolicy.Cuda)));

        StringAssert.StartsWith(error.Message, "the CUDA execution provider cannot be used: missing lib");
        StringAssert.Contains(error.Message, ".so");
    }

    [TestMethod]
    public void Open_AutoWithoutGpu_RunsOnCpuAndSaysSo()
    {
        if (CudaLoads()) Assert.Inconclusive("CUDA loads on this machine; the fallback cannot be observed here");
        var log = new List<string>();

        using var session = OnnxModelSession.Open(Model, OnnxRuntimeOptions.On(ExecutionProviderPolicy.Auto), log.Add);

        Assert.AreEqual(ExecutionProvider.Cpu, session.Provider);
        Assert.AreEqual(1, log.Count);
        StringAssert.StartsWith(log[0], "WARNING: CUDA execution provider unavailable (missing lib");
        StringAssert.EndsWith(log[0], "running on CPUExecutionProvider instead.");
    }

    [TestMethod]
    public void DescribeCudaFailure_LoaderMessage_NamesTheLibrary()
    {
        var reason = OnnxModelSession.DescribeCudaFailure("Failed to load library libonnxruntime_providers_cuda.so with error: libcublasLt.so.13: cannot open shared object file: No such file or directory");

        StringAssert.StartsWith(reason, "missing libcublasLt.so.13 (install CUDA 13 and cuDNN 9");
    }

    [TestMethod]
    public void RuntimeSide_RunsWithoutLibTorch()
    {
        var output = AppContext.BaseDirectory;
        var torchFiles = Directory.EnumerateFiles(output, "*", SearchOption.AllDirectories)
            .Select(Path.GetFileName)
            .Where(f => f!.StartsWith("libtorch", StringComparison.Ordinal) || f.StartsWith("TorchSharp", StringComparison.Ordinal) || f.Contains("LibTorchSharp", StringComparison.Ordinal))
            .ToList();

        Assert.AreEqual(0, torchFiles.Count, "TorchSharp files in the Runtime test output: " + string.Join(", ", torchFiles));
        Assert.IsFalse(AppDomain.CurrentDomain.GetAssemblies().Any(a => a.GetName().Name == "TorchSharp"));
    }
}
